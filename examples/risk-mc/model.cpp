#include "examples/risk-mc/model.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <ql/exercise.hpp>
#include <ql/instruments/payoffs.hpp>
#include <ql/instruments/vanillaoption.hpp>
#include <ql/math/distributions/normaldistribution.hpp>
#include <ql/math/matrixutilities/choleskydecomposition.hpp>
#include <ql/math/randomnumbers/mt19937uniformrng.hpp>
#include <ql/pricingengines/vanilla/analyticeuropeanengine.hpp>
#include <ql/processes/blackscholesprocess.hpp>
#include <ql/quotes/simplequote.hpp>
#include <ql/settings.hpp>
#include <ql/termstructures/volatility/equityfx/blackconstantvol.hpp>
#include <ql/termstructures/yield/flatforward.hpp>
#include <ql/time/calendars/nullcalendar.hpp>
#include <ql/time/calendars/target.hpp>
#include <ql/time/daycounters/actual365fixed.hpp>

namespace risk_mc {

namespace ql = QuantLib;

namespace {

// Mixed into every block's seed, so this example's streams differ from those
// of another program that seeds a Mersenne Twister with small integers.
constexpr unsigned long k_seed_salt = 0x5249534bUL;  // "RISK"

ql::Date today() {
    return ql::Date(k_market.today_day, static_cast<ql::Month>(k_market.today_month),
                    k_market.today_year);
}

ql::Date horizon() {
    return ql::TARGET().advance(today(), 1, ql::Days);
}

ql::Date expiry(const Position& p) {
    return ql::TARGET().adjust(today() + ql::Period(p.expiry_months, ql::Months));
}

std::uint64_t fnv1a(const std::string& s) {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (unsigned char c : s) {
        h ^= c;
        h *= 0x100000001b3ULL;
    }
    return h;
}

}  // namespace

std::int64_t to_micro(double value) {
    return static_cast<std::int64_t>(std::llround(value * static_cast<double>(k_micro)));
}

std::uint64_t model_fingerprint() {
    std::string s = "risk-mc model 1;";
    char buf[160];
    for (const Asset& a : k_market.assets) {
        std::snprintf(buf, sizeof buf, "asset %s %.17g %.17g %.17g;", a.name, a.spot, a.vol,
                      a.dividend);
        s += buf;
    }
    for (const auto& row : k_market.correlation)
        for (double c : row) {
            std::snprintf(buf, sizeof buf, "%.17g,", c);
            s += buf;
        }
    std::snprintf(buf, sizeof buf, ";rate %.17g;today %d-%d-%d;", k_market.rate,
                  k_market.today_year, k_market.today_month, k_market.today_day);
    s += buf;
    for (const Position& p : k_book) {
        std::snprintf(buf, sizeof buf, "pos %d %d %.17g %d %.17g;", p.asset, p.call ? 1 : 0,
                      p.strike, p.expiry_months, p.quantity);
        s += buf;
    }
    std::snprintf(buf, sizeof buf,
                  "horizon TARGET+1d;gbm drift r;mt19937 init_by_array{block lo,hi,%lx};"
                  "inverse normal;micro %lld",
                  k_seed_salt, static_cast<long long>(k_micro));
    s += buf;
    return fnv1a(s);
}

std::string describe_book() {
    std::string s;
    char buf[200];
    for (const Position& p : k_book) {
        std::snprintf(buf, sizeof buf, "%-5s %4g %-5s %3d-month %g %s\n",
                      p.quantity < 0 ? "short" : "long", std::fabs(p.quantity),
                      k_market.assets[p.asset].name, p.expiry_months, p.strike,
                      p.call ? "calls" : "puts");
        s += buf;
    }
    return s;
}

struct Model::Impl {
    std::array<ql::ext::shared_ptr<ql::SimpleQuote>, k_assets> spots;
    std::vector<ql::ext::shared_ptr<ql::VanillaOption>> options;  // in k_book order
    ql::Matrix cholesky;
    double dt = 0;  // years from today to the horizon

    double book_value() const {
        double v = 0;
        for (std::size_t i = 0; i < options.size(); ++i)
            v += k_book[i].quantity * options[i]->NPV();
        return v;
    }
};

Model::Model() : m_impl(std::make_unique<Impl>()) {
    Impl& m = *m_impl;
    ql::Actual365Fixed dc;
    // Floating term structures (reference date = evaluation date), so moving
    // the evaluation date to the horizon shortens every option by one day.
    ql::Handle<ql::YieldTermStructure> rates(
        ql::ext::make_shared<ql::FlatForward>(0, ql::NullCalendar(), k_market.rate, dc));
    m.cholesky = ql::Matrix(k_assets, k_assets);
    for (int i = 0; i < k_assets; ++i)
        for (int j = 0; j < k_assets; ++j) m.cholesky[i][j] = k_market.correlation[i][j];
    m.cholesky = ql::CholeskyDecomposition(m.cholesky);
    m.dt = dc.yearFraction(today(), horizon());

    std::array<ql::ext::shared_ptr<ql::PricingEngine>, k_assets> engines;
    for (int i = 0; i < k_assets; ++i) {
        const Asset& a = k_market.assets[i];
        m.spots[i] = ql::ext::make_shared<ql::SimpleQuote>(a.spot);
        ql::Handle<ql::YieldTermStructure> dividends(
            ql::ext::make_shared<ql::FlatForward>(0, ql::NullCalendar(), a.dividend, dc));
        ql::Handle<ql::BlackVolTermStructure> vol(
            ql::ext::make_shared<ql::BlackConstantVol>(0, ql::NullCalendar(), a.vol, dc));
        auto process = ql::ext::make_shared<ql::BlackScholesMertonProcess>(
            ql::Handle<ql::Quote>(m.spots[i]), dividends, rates, vol);
        engines[i] = ql::ext::make_shared<ql::AnalyticEuropeanEngine>(process);
    }
    for (const Position& p : k_book) {
        auto payoff = ql::ext::make_shared<ql::PlainVanillaPayoff>(
            p.call ? ql::Option::Call : ql::Option::Put, p.strike);
        auto exercise = ql::ext::make_shared<ql::EuropeanExercise>(expiry(p));
        auto option = ql::ext::make_shared<ql::VanillaOption>(payoff, exercise);
        option->setPricingEngine(engines[p.asset]);
        m.options.push_back(option);
    }
}

Model::~Model() = default;

std::int64_t Model::value_today() {
    Impl& m = *m_impl;
    ql::Settings::instance().evaluationDate() = today();
    for (int i = 0; i < k_assets; ++i) m.spots[i]->setValue(k_market.assets[i].spot);
    return to_micro(m.book_value());
}

std::vector<std::int64_t> Model::block_losses(std::uint64_t block, std::uint64_t paths) {
    Impl& m = *m_impl;
    const std::int64_t v0 = value_today();
    ql::Settings::instance().evaluationDate() = horizon();

    // Seeded by the block alone: the same block gives the same paths on any
    // node, in any order, alone or in a serial run of all blocks.
    ql::MersenneTwisterUniformRng rng(
        std::vector<unsigned long>{static_cast<unsigned long>(block & 0xffffffffULL),
                                   static_cast<unsigned long>(block >> 32), k_seed_salt});
    ql::InverseCumulativeNormal normal;
    std::array<double, k_assets> drift{}, diffusion{};
    for (int i = 0; i < k_assets; ++i) {
        const Asset& a = k_market.assets[i];
        drift[i] = (k_market.rate - a.dividend - 0.5 * a.vol * a.vol) * m.dt;
        diffusion[i] = a.vol * std::sqrt(m.dt);
    }

    std::vector<std::int64_t> losses;
    losses.reserve(paths);
    std::array<double, k_assets> z{};
    for (std::uint64_t n = 0; n < paths; ++n) {
        for (double& x : z) x = normal(rng.nextReal());
        for (int i = 0; i < k_assets; ++i) {
            double x = 0;
            for (int j = 0; j <= i; ++j) x += m.cholesky[i][j] * z[j];
            m.spots[i]->setValue(k_market.assets[i].spot * std::exp(drift[i] + diffusion[i] * x));
        }
        losses.push_back(v0 - to_micro(m.book_value()));
    }
    std::sort(losses.begin(), losses.end());
    return losses;
}

}  // namespace risk_mc
