//! Exact arithmetic for points and scores, the SPEC 3.3 rounding rule and
//! the SPEC 3.2 nearest-rank percentile.
//!
//! Points, weighted scores and scores are computed as exact fractions (big
//! rationals) from integer numerators, denominators and latencies and from
//! the model's decimal numbers, and only then rounded to 6 decimal places,
//! half away from zero. Floating point would turn an exact half such as
//! 2.5e-6 into 2.4999…e-6 or 2.5000…1e-6 and round it either way; with
//! fractions the rounding is exact, so equal scores tie however they were
//! computed (SPEC 3.3).

use num_bigint::BigInt;
use num_integer::Integer;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};

/// An exact rational number.
pub type Exact = BigRational;

/// An integer as an exact number.
pub fn int(n: impl Into<BigInt>) -> Exact {
    Exact::from_integer(n.into())
}

/// `num / den` as an exact number; `None` when `den` is 0.
pub fn fraction(num: impl Into<BigInt>, den: impl Into<BigInt>) -> Option<Exact> {
    let den = den.into();
    if den.is_zero() { None } else { Some(Exact::new(num.into(), den)) }
}

/// Parses a plain decimal such as `12`, `-0.3` or `86400.25` exactly.
/// Exponents are not accepted (see [`from_f64`] for parsed TOML floats).
pub fn from_decimal(text: &str) -> Option<Exact> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() && frac.is_empty() {
        return None;
    }
    if !whole.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mantissa: BigInt = format!("{whole}{frac}").parse().ok()?;
    let scale = BigInt::from(10u32).pow(u32::try_from(frac.len()).ok()?);
    let value = Exact::new(mantissa, scale);
    Some(if negative { -value } else { value })
}

/// The decimal a person wrote for a float, exactly: Rust prints the shortest
/// text that reads back as the same `f64`, which for any number written with
/// up to 15 significant digits is that number as written (`0.3` is 3/10, not
/// the binary fraction nearest to it). `None` for NaN and infinities.
pub fn from_f64(value: f64) -> Option<Exact> {
    if !value.is_finite() {
        return None;
    }
    from_decimal(&format!("{value}"))
}

/// `x` rounded to 6 decimal places, half away from zero, in millionths.
pub fn round_micros(x: &Exact) -> BigInt {
    let million = BigInt::from(1_000_000u32);
    let scaled = x * Exact::from_integer(million);
    let (num, den) = (scaled.numer().abs(), scaled.denom().clone());
    // floor(|x| + 1/2) = floor((2·num + den) / (2·den)) for den > 0.
    let two = BigInt::from(2u32);
    let magnitude = (&two * num + &den).div_floor(&(two * den));
    if scaled.is_negative() { -magnitude } else { magnitude }
}

/// `x` rounded to 6 decimal places (half away from zero) as the `f64`
/// nearest to that decimal, so that it prints as the rounded decimal.
pub fn round6(x: &Exact) -> f64 {
    micros_to_f64(&round_micros(x))
}

/// Millionths as the `f64` nearest to `micros / 10^6`.
pub fn micros_to_f64(micros: &BigInt) -> f64 {
    // Division of two exactly representable integers is correctly rounded,
    // which is all that is needed while |micros| < 2^53 (scores are at most
    // 10^8 millionths); beyond that the exact fraction is converted.
    match micros.to_i64() {
        Some(m) if m.unsigned_abs() < (1 << 53) => m as f64 / 1e6,
        _ => to_f64(&Exact::new(micros.clone(), BigInt::from(1_000_000u32))),
    }
}

/// The `f64` nearest to an exact number.
pub fn to_f64(x: &Exact) -> f64 {
    x.to_f64().unwrap_or(f64::NAN)
}

/// An exact number as JSON: an integer when it is one (the model's weights
/// and deductions are usually whole), otherwise the nearest `f64`.
pub fn json_number(x: &Exact) -> serde_json::Number {
    if x.is_integer()
        && let Some(i) = x.to_integer().to_i64()
    {
        return serde_json::Number::from(i);
    }
    serde_json::Number::from_f64(to_f64(x)).unwrap_or_else(|| serde_json::Number::from(0))
}

/// The exact number `x` clamped to `[lo, hi]`.
pub fn clamp(x: Exact, lo: &Exact, hi: &Exact) -> Exact {
    if &x < lo {
        lo.clone()
    } else if &x > hi {
        hi.clone()
    } else {
        x
    }
}

/// One hundred.
pub fn hundred() -> Exact {
    int(100)
}

/// One.
pub fn one() -> Exact {
    Exact::one()
}

/// The 1-based nearest rank of percentile `p_num / p_den` among `n` sorted
/// values: `ceil(p·n)`, at least 1. `None` when `n` is 0.
pub fn nearest_rank(n: usize, p_num: u64, p_den: u64) -> Option<usize> {
    if n == 0 || p_den == 0 {
        return None;
    }
    let n = n as u128;
    let rank = (u128::from(p_num) * n).div_ceil(u128::from(p_den));
    usize::try_from(rank.clamp(1, n)).ok()
}

/// The nearest-rank percentile `p_num / p_den` of `values` (reordered in
/// place) and its 1-based rank; `None` for no values.
pub fn percentile(values: &mut [i64], p_num: u64, p_den: u64) -> Option<(i64, usize)> {
    let rank = nearest_rank(values.len(), p_num, p_den)?;
    let (_, nth, _) = values.select_nth_unstable(rank - 1);
    Some((*nth, rank))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Exact {
        from_decimal(s).unwrap()
    }

    #[test]
    fn decimals_parse_exactly() {
        assert_eq!(dec("0.3"), fraction(3, 10).unwrap());
        assert_eq!(dec("-12.50"), fraction(-25, 2).unwrap());
        assert_eq!(dec("86400"), int(86400));
        assert_eq!(dec(".5"), fraction(1, 2).unwrap());
        assert!(from_decimal("1e5").is_none());
        assert!(from_decimal("").is_none());
        assert!(from_decimal("-").is_none());
        assert!(from_decimal("1.2.3").is_none());
        assert_eq!(from_f64(0.3).unwrap(), fraction(3, 10).unwrap());
        assert_eq!(from_f64(1e-7).unwrap(), fraction(1, 10_000_000).unwrap());
        assert_eq!(from_f64(2.5).unwrap(), fraction(5, 2).unwrap());
        assert!(from_f64(f64::NAN).is_none());
        assert!(from_f64(f64::INFINITY).is_none());
    }

    #[test]
    fn rounding_is_half_away_from_zero_on_exact_values() {
        // 2.5e-7 is below half a millionth: rounds to 0; 5e-7 is exactly half: rounds up.
        assert_eq!(round_micros(&fraction(1, 4_000_000).unwrap()), BigInt::from(0));
        assert_eq!(round_micros(&fraction(1, 2_000_000).unwrap()), BigInt::from(1));
        assert_eq!(round_micros(&fraction(-1, 2_000_000).unwrap()), BigInt::from(-1));
        // x.xxxxxx5 exactly: 12.3456785 rounds up to 12.345679 (as f64 it is 12.34567849999…).
        assert_eq!(round_micros(&dec("12.3456785")), BigInt::from(12_345_679));
        assert_eq!(round6(&dec("12.3456785")), 12.345679);
        assert_eq!(round_micros(&dec("12.34567849999")), BigInt::from(12_345_678));
        assert_eq!(round_micros(&dec("-12.3456785")), BigInt::from(-12_345_679));
        // 2/3 of 100 and 1/3 of 100.
        assert_eq!(round6(&fraction(200, 3).unwrap()), 66.666667);
        assert_eq!(round6(&fraction(100, 3).unwrap()), 33.333333);
        // 100 × 1/40,000,000 = 2.5e-6: half of a millionth above 2e-6 → 3e-6.
        assert_eq!(round6(&fraction(100, 40_000_000).unwrap()), 0.000003);
        assert_eq!(round6(&int(98)), 98.0);
        assert_eq!(round6(&Exact::zero()), 0.0);
    }

    #[test]
    fn rounded_values_print_as_their_decimals() {
        for (x, text) in [(dec("93.75"), "93.75"), (fraction(200, 3).unwrap(), "66.666667"), (dec("0.1"), "0.1")] {
            assert_eq!(serde_json::to_string(&round6(&x)).unwrap(), text);
        }
    }

    #[test]
    fn json_numbers_are_integers_when_whole() {
        assert_eq!(serde_json::to_string(&json_number(&int(3))).unwrap(), "3");
        assert_eq!(serde_json::to_string(&json_number(&dec("1.5"))).unwrap(), "1.5");
        assert_eq!(serde_json::to_string(&json_number(&dec("-2"))).unwrap(), "-2");
    }

    #[test]
    fn nearest_rank_percentiles() {
        // SPEC 3.2: the element at 1-based rank ceil(p·n).
        assert_eq!(nearest_rank(0, 9, 10), None);
        assert_eq!(nearest_rank(1, 9, 10), Some(1));
        assert_eq!(nearest_rank(2, 9, 10), Some(2)); // ceil(1.8)
        assert_eq!(nearest_rank(10, 9, 10), Some(9)); // ceil(9.0), exact: not 10
        assert_eq!(nearest_rank(11, 9, 10), Some(10)); // ceil(9.9)
        assert_eq!(nearest_rank(20, 9, 10), Some(18));
        assert_eq!(nearest_rank(5, 1, 2), Some(3));
        assert_eq!(percentile(&mut [], 9, 10), None);
        assert_eq!(percentile(&mut [42], 9, 10), Some((42, 1)));
        assert_eq!(percentile(&mut [7, 3], 9, 10), Some((7, 2)));
        let mut ten = [100, 10, 90, 20, 80, 30, 70, 40, 60, 50];
        assert_eq!(percentile(&mut ten, 9, 10), Some((90, 9)));
    }

    #[test]
    fn clamping() {
        assert_eq!(clamp(int(-5), &int(0), &hundred()), int(0));
        assert_eq!(clamp(int(105), &int(0), &hundred()), hundred());
        assert_eq!(clamp(dec("42.5"), &int(0), &hundred()), dec("42.5"));
    }
}
