//! The agencies of the demo city (晋江市, a county-level city of about two
//! million people in Fujian) and how diligent each one is.
//!
//! Every agency has a [`Tier`] of diligence, turned into a [`Profile`] of
//! response times and answer rates with a little seeded jitter, so that an
//! assessment of the generated year shows a plausible spread of scores: a
//! few exemplary agencies, most solid, some uneven, a few lagging.

use govledger_domain::AgencyId;
use govledger_domain::catalog::{AgencyKind, Role};
use rand::rngs::SmallRng;

use crate::dist::{uniform, weighted};

/// An agency, by its index in [`City::agencies`].
pub(crate) type Ag = usize;

/// How diligent an agency is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tier {
    Exemplary,
    Solid,
    Uneven,
    Lagging,
}

impl Tier {
    /// How much more likely a regulator is to find fault with the agency.
    fn laxness(self) -> f64 {
        match self {
            Tier::Exemplary => 0.2,
            Tier::Solid => 1.0,
            Tier::Uneven => 2.5,
            Tier::Lagging => 5.0,
        }
    }
}

/// How an agency answers what is asked of it. Latencies are medians of
/// log-normal distributions, in seconds.
#[derive(Debug, Clone)]
pub(crate) struct Profile {
    /// Median time for a bank to execute or reject a freeze request.
    pub freeze_median_s: f64,
    /// Share of freeze requests left for hours (after-hours backlog, manual review).
    pub freeze_slow_p: f64,
    pub freeze_reject_p: f64,
    /// Share of freeze requests never answered at all.
    pub freeze_silent_p: f64,
    pub clue_feedback_p: f64,
    pub clue_feedback_median_s: f64,
    pub dissuasion_p: f64,
    pub dissuasion_median_s: f64,
    pub task_ack_p: f64,
    pub task_on_time_p: f64,
    /// Share of tasks completed after their due date; the rest of those not
    /// on time are never completed.
    pub task_late_p: f64,
    pub attendance_p: f64,
}

impl Profile {
    /// The tier's profile, jittered by `jitter` in `[-1, 1]` (positive is better).
    fn new(tier: Tier, jitter: f64) -> Self {
        // (freeze median, slow, reject, silent, clue p, clue median, dissuasion p,
        //  dissuasion median, ack, on time, late, attendance)
        let t = match tier {
            Tier::Exemplary => (150.0, 0.02, 0.02, 0.002, 0.98, 8.0 * 3600.0, 0.99, 900.0, 0.99, 0.94, 0.05, 0.98),
            Tier::Solid => (420.0, 0.05, 0.04, 0.008, 0.92, 20.0 * 3600.0, 0.95, 1_800.0, 0.95, 0.84, 0.12, 0.92),
            Tier::Uneven => (1_200.0, 0.12, 0.07, 0.025, 0.80, 2.5 * 86_400.0, 0.86, 4_800.0, 0.85, 0.66, 0.24, 0.80),
            Tier::Lagging => (3_000.0, 0.25, 0.10, 0.06, 0.60, 4.5 * 86_400.0, 0.70, 12_000.0, 0.70, 0.45, 0.35, 0.62),
        };
        let faster = 1.0 - 0.2 * jitter;
        let better = |p: f64| (p + 0.03 * jitter).clamp(0.0, 1.0);
        let rarer = |p: f64| (p * (1.0 - 0.3 * jitter)).clamp(0.0, 1.0);
        Self {
            freeze_median_s: t.0 * faster,
            freeze_slow_p: rarer(t.1),
            freeze_reject_p: rarer(t.2),
            freeze_silent_p: rarer(t.3),
            clue_feedback_p: better(t.4),
            clue_feedback_median_s: t.5 * faster,
            dissuasion_p: better(t.6),
            dissuasion_median_s: t.7 * faster,
            task_ack_p: better(t.8),
            task_on_time_p: better(t.9),
            task_late_p: t.10,
            attendance_p: better(t.11),
        }
    }
}

/// One line of the agency table.
struct Spec {
    id: &'static str,
    name: &'static str,
    kind: AgencyKind,
    jurisdiction: &'static str,
    roles: &'static [Role],
    tier: Tier,
    /// Share of the city's workload (accounts held, cases handled, reach).
    weight: f64,
}

const fn spec(
    id: &'static str,
    name: &'static str,
    kind: AgencyKind,
    jurisdiction: &'static str,
    tier: Tier,
    weight: f64,
) -> Spec {
    Spec { id, name, kind, jurisdiction, roles: &[], tier, weight }
}

use AgencyKind as K;
use Tier as T;

const CITY: &str = "晋江市";

/// The agencies, in registration order. The coordination office comes first:
/// it bootstraps the ledger by registering itself.
const AGENCIES: &[Spec] = &[
    Spec {
        roles: &[Role::Coordinator],
        ..spec(
            "jj-antifraud-office",
            "晋江市打击治理电信网络新型违法犯罪工作联席会议办公室",
            K::Government,
            CITY,
            T::Solid,
            1.0,
        )
    },
    Spec {
        roles: &[Role::Evaluator],
        ..spec("jj-supervision-office", "晋江市人民政府督查室", K::Government, CITY, T::Exemplary, 0.3)
    },
    spec("jj-education-bureau", "晋江市教育局", K::Government, CITY, T::Solid, 0.8),
    // Police: the city bureau, its anti-fraud centre (which runs the
    // stop-payment desk and the 96110 warning line) and four district stations.
    spec("jj-psb", "晋江市公安局", K::PublicSecurity, CITY, T::Solid, 0.6),
    spec("jj-psb-afc", "晋江市公安局反诈中心", K::PublicSecurity, CITY, T::Exemplary, 2.0),
    spec("jj-psb-qingyang", "晋江市公安局青阳派出所", K::PublicSecurity, "晋江市青阳街道", T::Solid, 1.0),
    spec("jj-psb-anhai", "晋江市公安局安海派出所", K::PublicSecurity, "晋江市安海镇", T::Uneven, 0.9),
    spec("jj-psb-chendai", "晋江市公安局陈埭派出所", K::PublicSecurity, "晋江市陈埭镇", T::Lagging, 0.9),
    spec("jj-psb-cidian", "晋江市公安局池店派出所", K::PublicSecurity, "晋江市池店镇", T::Solid, 0.7),
    // Banks: weights follow how many accounts (and mule accounts) each holds.
    spec("icbc-jinjiang", "工商银行晋江支行", K::Bank, CITY, T::Exemplary, 1.0),
    spec("abc-jinjiang", "农业银行晋江支行", K::Bank, CITY, T::Solid, 1.1),
    spec("boc-jinjiang", "中国银行晋江支行", K::Bank, CITY, T::Solid, 0.8),
    spec("ccb-jinjiang", "建设银行晋江支行", K::Bank, CITY, T::Exemplary, 1.0),
    spec("psbc-jinjiang", "邮储银行晋江支行", K::Bank, CITY, T::Uneven, 0.7),
    spec("jj-rural-bank", "晋江农村商业银行", K::Bank, CITY, T::Lagging, 1.3),
    spec("cib-jinjiang", "兴业银行晋江支行", K::Bank, CITY, T::Solid, 0.6),
    spec("cmb-jinjiang", "招商银行晋江支行", K::Bank, CITY, T::Exemplary, 0.5),
    spec("tenpay", "财付通支付科技有限公司", K::PaymentInstitution, "全国", T::Solid, 1.4),
    spec("alipay", "支付宝（中国）网络技术有限公司", K::PaymentInstitution, "全国", T::Exemplary, 1.2),
    spec("lakala", "拉卡拉支付股份有限公司", K::PaymentInstitution, "全国", T::Lagging, 0.3),
    spec("cmcc-jinjiang", "中国移动晋江分公司", K::TelecomOperator, CITY, T::Exemplary, 1.5),
    spec("unicom-jinjiang", "中国联通晋江分公司", K::TelecomOperator, CITY, T::Solid, 0.8),
    spec("ctcc-jinjiang", "中国电信晋江分公司", K::TelecomOperator, CITY, T::Uneven, 0.8),
    spec("tencent-wechat", "腾讯微信（深圳市腾讯计算机系统有限公司）", K::InternetPlatform, "全国", T::Solid, 1.2),
    spec("douyin", "抖音（北京抖音信息服务有限公司）", K::InternetPlatform, "全国", T::Uneven, 1.0),
    spec("taobao", "淘宝（浙江淘宝网络有限公司）", K::InternetPlatform, "全国", T::Solid, 0.7),
    spec("kuaishou", "快手（北京快手科技有限公司）", K::InternetPlatform, "全国", T::Lagging, 0.6),
    spec("pboc-jinjiang", "中国人民银行晋江市支行", K::Regulator, CITY, T::Exemplary, 1.0),
    spec("nfra-quanzhou", "国家金融监督管理总局泉州监管分局", K::Regulator, "泉州市", T::Solid, 0.7),
    spec("fj-comms-admin", "福建省通信管理局", K::Regulator, "福建省", T::Solid, 0.8),
    spec("jj-cac-office", "中共晋江市委网络安全和信息化委员会办公室", K::Regulator, CITY, T::Uneven, 0.8),
    spec("jj-procuratorate", "晋江市人民检察院", K::Procuratorate, CITY, T::Solid, 1.0),
    spec("jj-court", "晋江市人民法院", K::Court, CITY, T::Uneven, 1.0),
    spec("qingyang-meiling-community", "青阳街道梅岭社区居民委员会", K::Community, "晋江市青阳街道", T::Solid, 1.0),
    spec("anhai-chengdong-community", "安海镇城东社区居民委员会", K::Community, "晋江市安海镇", T::Lagging, 0.8),
    spec("chendai-community", "陈埭镇岸兜社区居民委员会", K::Community, "晋江市陈埭镇", T::Uneven, 0.8),
    spec("jj-antifraud-volunteers", "晋江市反诈志愿者协会", K::Other, CITY, T::Exemplary, 1.0),
    spec("jj-express-association", "晋江市快递行业协会", K::Other, CITY, T::Uneven, 0.5),
];

/// A registered agency of the demo city.
#[derive(Debug, Clone)]
pub(crate) struct Agency {
    pub id: AgencyId,
    pub name: &'static str,
    pub kind: AgencyKind,
    pub jurisdiction: &'static str,
    pub roles: &'static [Role],
    pub tier: Tier,
    pub weight: f64,
    pub profile: Profile,
}

/// The demo city: its agencies and the ones with a standing part to play.
#[derive(Debug)]
pub(crate) struct City {
    pub agencies: Vec<Agency>,
    /// The coordination office (role `coordinator`).
    pub office: Ag,
    /// The city public security bureau.
    pub psb: Ag,
    /// The bureau's anti-fraud centre.
    pub afc: Ag,
}

impl City {
    /// The city, with each agency's profile jittered by the seed.
    pub fn new(rng: &mut SmallRng) -> Self {
        let agencies: Vec<Agency> = AGENCIES
            .iter()
            .map(|s| Agency {
                id: AgencyId::parse(s.id).unwrap_or_else(|r| panic!("demo agency table: {}: {r}", s.id)),
                name: s.name,
                kind: s.kind,
                jurisdiction: s.jurisdiction,
                roles: s.roles,
                tier: s.tier,
                weight: s.weight,
                profile: Profile::new(s.tier, uniform(rng, -1.0, 1.0)),
            })
            .collect();
        let find = |id: &str| agencies.iter().position(|a| a.id.as_str() == id).unwrap_or(0);
        let (psb, afc) = (find("jj-psb"), find("jj-psb-afc"));
        Self { agencies, office: 0, psb, afc }
    }

    pub fn get(&self, a: Ag) -> &Agency {
        &self.agencies[a]
    }

    pub fn id(&self, a: Ag) -> &AgencyId {
        &self.agencies[a].id
    }

    pub fn kind(&self, a: Ag) -> AgencyKind {
        self.agencies[a].kind
    }

    pub fn profile(&self, a: Ag) -> &Profile {
        &self.agencies[a].profile
    }

    /// All agencies of these kinds.
    pub fn of_kinds(&self, kinds: &[AgencyKind]) -> Vec<Ag> {
        (0..self.agencies.len()).filter(|a| kinds.contains(&self.kind(*a))).collect()
    }

    /// An agency of these kinds, in proportion to its workload.
    pub fn pick(&self, rng: &mut SmallRng, kinds: &[AgencyKind]) -> Ag {
        self.pick_by(rng, kinds, |a| a.weight)
    }

    /// An agency of these kinds, more often a lax one: a regulator's target.
    pub fn pick_lax(&self, rng: &mut SmallRng, kinds: &[AgencyKind]) -> Ag {
        self.pick_by(rng, kinds, |a| a.weight * a.tier.laxness())
    }

    /// An agency of these kinds other than `not`.
    pub fn pick_other(&self, rng: &mut SmallRng, kinds: &[AgencyKind], not: Ag) -> Ag {
        let candidates: Vec<Ag> = self.of_kinds(kinds).into_iter().filter(|a| *a != not).collect();
        if candidates.is_empty() {
            return if not == self.office { self.psb } else { self.office };
        }
        let weights: Vec<f64> = candidates.iter().map(|a| self.agencies[*a].weight).collect();
        candidates[weighted(rng, &weights)]
    }

    fn pick_by(&self, rng: &mut SmallRng, kinds: &[AgencyKind], weight: impl Fn(&Agency) -> f64) -> Ag {
        let candidates = self.of_kinds(kinds);
        if candidates.is_empty() {
            return self.office;
        }
        let weights: Vec<f64> = candidates.iter().map(|a| weight(&self.agencies[*a])).collect();
        candidates[weighted(rng, &weights)]
    }
}

/// The kinds that answer freeze requests.
pub(crate) const ACCOUNT_HOLDERS: &[AgencyKind] = &[AgencyKind::Bank, AgencyKind::PaymentInstitution];
