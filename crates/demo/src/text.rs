//! The words of the demo city: fraud types, meeting themes, resolutions,
//! reasons and audiences, in Chinese as the agencies would write them.

use govledger_domain::catalog::AgencyKind;

/// Common telecom and online fraud types, with their share of cases.
pub(crate) const FRAUD_TYPES: &[(&str, f64)] = &[
    ("刷单返利类诈骗", 0.24),
    ("虚假网络投资理财类诈骗", 0.18),
    ("虚假网络贷款类诈骗", 0.12),
    ("冒充电商物流客服类诈骗", 0.12),
    ("冒充公检法及政府机关类诈骗", 0.07),
    ("虚假征信类诈骗", 0.07),
    ("网络游戏产品虚假交易类诈骗", 0.06),
    ("网络婚恋交友类诈骗", 0.06),
    ("冒充领导熟人类诈骗", 0.05),
    ("其他类型诈骗", 0.03),
];

pub(crate) const FREEZE_REJECT_REASONS: &[&str] = &[
    "账户已销户，无法执行",
    "协助查询冻结法律文书要素不全，请补正后重新发起",
    "账户信息与开户名不符",
    "该账户已被其他机关冻结，余额为零",
    "非本行账户，请核实开户行",
];

pub(crate) const FREEZE_RELEASE_REASONS: &[&str] = &[
    "止付期满，已转为冻结或无需续止",
    "经核查资金来源合法，解除冻结",
    "案件已移送起诉，依法院裁定解除",
    "被害人资金已全部返还",
    "冻结期限届满未续冻",
];

/// Meeting themes: title, the agency kinds invited, and the resolutions a
/// meeting on that theme adopts (each becomes tasks for the invitees).
pub(crate) struct Theme {
    pub title: &'static str,
    pub kinds: &'static [AgencyKind],
    pub resolutions: &'static [&'static str],
}

use AgencyKind as K;

pub(crate) const PLENARY: Theme = Theme {
    title: "打击治理电信网络新型违法犯罪工作联席会议全体会议",
    kinds: &[],
    resolutions: &[
        "各成员单位落实《反电信网络诈骗法》主体责任，本月底前报送自查报告",
        "银行、支付机构对涉诈高风险账户开展专项排查",
        "电信运营商对高风险电话卡开展二次实名核验",
        "互联网平台清理涉诈账号与引流广告",
        "反诈宣传进社区、进校园、进企业，覆盖重点人群",
        "公安机关通报本月涉诈资金止付冻结情况，各银行限时整改",
        "落实预警劝阻工作闭环，确保预警信息当日见面",
    ],
};

pub(crate) const THEMES: &[Theme] = &[
    Theme {
        title: "涉诈资金查控专题会",
        kinds: &[K::PublicSecurity, K::Bank, K::PaymentInstitution, K::Regulator],
        resolutions: &[
            "止付冻结请求须在规定时限内反馈执行结果",
            "建立银行夜间止付值班机制",
            "对被冻结资金返还流程进行梳理并简化",
        ],
    },
    Theme {
        title: "断卡行动推进会",
        kinds: &[K::PublicSecurity, K::Bank, K::TelecomOperator, K::PaymentInstitution],
        resolutions: &["清理名下多卡、异常开卡人员", "对涉诈“两卡”开户网点开展倒查", "移交涉嫌帮信人员线索"],
    },
    Theme {
        title: "互联网涉诈整治专题会",
        kinds: &[K::PublicSecurity, K::InternetPlatform, K::TelecomOperator, K::Regulator],
        resolutions: &["封堵涉诈网址与应用", "清理涉诈引流账号", "完善平台涉诈举报快速处置通道"],
    },
    Theme {
        title: "反诈宣传工作部署会",
        kinds: &[K::Government, K::Community, K::Other, K::PublicSecurity],
        resolutions: &["开展老年人反诈专场宣传", "组织校园反诈主题班会", "推广国家反诈中心APP注册"],
    },
    Theme {
        title: "涉诈案件司法衔接协调会",
        kinds: &[K::PublicSecurity, K::Procuratorate, K::Court],
        resolutions: &["统一帮信案件证据标准", "加快涉案资金返还裁定", "提前介入重大涉诈案件"],
    },
];

pub(crate) const DIRECT_TASKS: &[&str] = &[
    "报送本季度涉诈风险防控工作情况",
    "对辖内高风险账户开展专项核查并报送结果",
    "落实重点人群反诈宣传全覆盖",
    "整改上月止付冻结超时问题",
    "配合开展涉诈线索集中研判",
    "完成员工反诈业务培训并报送名单",
    "对预警劝阻未闭环情况作出说明并整改",
];

/// The legal basis of a task, by the assignee's sector.
pub(crate) fn task_legal_basis(kind: AgencyKind) -> &'static str {
    match kind {
        K::Bank | K::PaymentInstitution => "《中华人民共和国反电信网络诈骗法》第三章 金融治理",
        K::TelecomOperator => "《中华人民共和国反电信网络诈骗法》第二章 电信治理",
        K::InternetPlatform => "《中华人民共和国反电信网络诈骗法》第四章 互联网治理",
        _ => "《中华人民共和国反电信网络诈骗法》第五章 综合措施",
    }
}

pub(crate) const TASK_EVIDENCE: &[&str] =
    &["已提交书面整改报告", "已报送自查报告及台账", "已完成并附工作照片与名单", "已在联席办工作群报备并上传材料"];

pub(crate) const TASK_EXTENSION_REASONS: &[&str] =
    &["涉及数据量大，申请延期完成核查", "需上级行统一部署系统改造", "节假日影响，申请顺延", "配合专项行动，工作量增加"];

pub(crate) const TASK_CANCEL_REASONS: &[&str] =
    &["任务已并入全市专项行动统一部署", "情况发生变化，无需继续办理", "重复交办，予以撤销"];

/// What a clue of each kind is about.
pub(crate) const CLUE_SUMMARIES: &[(&str, &str)] = &[
    ("phone_number", "群众举报的涉诈电话号码，疑似冒充客服"),
    ("bank_account", "疑似涉诈资金流入的收款账户"),
    ("url", "仿冒投资平台网址"),
    ("app", "涉诈虚假贷款应用"),
    ("other", "疑似帮信人员收购“两卡”"),
];

pub(crate) const CLUE_ACTIONS: &[&str] =
    &["已关停号码并核查实名信息", "已对账户采取限制措施", "已封堵网址", "已下架应用并留存证据", "已移交属地派出所"];

pub(crate) const CARD_OPERATIONS: &[&str] =
    &["断卡行动·春雷", "断卡行动·清源", "断卡行动·夏季攻势", "断卡行动·秋风", "断卡行动·冬季攻坚"];

pub(crate) const PUBLICITY_AUDIENCES: &[&str] = &[
    "社区老年居民",
    "高校学生",
    "中小学生及家长",
    "企业财务人员",
    "外来务工人员",
    "银行网点客户",
    "快递从业人员",
    "线上直播观众",
];

pub(crate) const PENALTY_REASONS: &[&str] = &[
    "止付冻结响应超时，多次未按规定时限反馈",
    "涉诈线索反馈率低于考核要求",
    "未落实开户尽职调查，涉诈账户数量居高",
    "预警劝阻未闭环，多起被预警人员被骗",
    "未按期完成联席会议交办任务",
];

pub(crate) const PENALTY_REVOKE_REASONS: &[&str] =
    &["复核后认定事实不清，予以撤销", "整改到位，经申请予以撤销", "行政复议决定撤销"];

/// The legal basis a penalty cites: regulators cite the law, the office the
/// city's accountability rules.
pub(crate) const LAW_PENALTIES: &str = "《中华人民共和国反电信网络诈骗法》第六章 法律责任";
pub(crate) const CITY_PENALTIES: &str = "《晋江市打击治理电信网络诈骗工作责任追究办法》";
