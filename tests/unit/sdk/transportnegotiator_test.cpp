// TransportNegotiator: tables of open outcomes and the kind each leaves current.
#include "transport/transportnegotiator.h"

#include <gtest/gtest.h>

using namespace parley;
using namespace std::chrono_literals;

namespace {

constexpr auto Ws = TransportKind::WebSocket;
constexpr auto Sse = TransportKind::Sse;
constexpr auto Poll = TransportKind::LongPoll;

enum class Step { Fail, Succeed, Upgrade };

struct Case {
    const char* name;
    QList<TransportKind> order;
    int failuresBeforeFallback;
    std::optional<TransportKind> remembered;
    QList<Step> steps;
    QList<TransportKind> expected; // current() after start() and after each step
};

class NegotiatorTable : public testing::TestWithParam<Case> { };

TEST_P(NegotiatorTable, FollowsTheOrder)
{
    const Case& c = GetParam();
    TransportNegotiator negotiator(c.order, c.failuresBeforeFallback);
    negotiator.start(c.remembered);
    QList<TransportKind> seen { negotiator.current() };
    for (Step step : c.steps) {
        switch (step) {
        case Step::Fail:
            negotiator.openFailed();
            break;
        case Step::Succeed:
            negotiator.openSucceeded();
            break;
        case Step::Upgrade:
            negotiator.upgraded();
            break;
        }
        seen.append(negotiator.current());
    }
    EXPECT_EQ(seen, c.expected);
}

const Case kCases[] = {
    { "default order, two failures per kind", {}, 2, std::nullopt,
        { Step::Fail, Step::Fail, Step::Fail, Step::Fail, Step::Fail, Step::Fail },
        { Ws, Ws, Sse, Sse, Poll, Poll, Ws } },
    { "a success in between resets the count", {}, 2, std::nullopt,
        { Step::Fail, Step::Succeed, Step::Fail, Step::Fail }, { Ws, Ws, Ws, Ws, Sse } },
    { "one failure is enough with N = 1", {}, 1, std::nullopt, { Step::Fail, Step::Fail },
        { Ws, Sse, Poll } },
    { "remembered kind is where it starts", {}, 2, Sse, { Step::Fail, Step::Fail },
        { Sse, Sse, Poll } },
    { "remembered kind not in the order: the first", { Ws, Poll }, 2, Sse, { Step::Fail },
        { Ws, Ws } },
    { "custom order", { Poll, Ws }, 1, std::nullopt, { Step::Fail, Step::Fail },
        { Poll, Ws, Poll } },
    { "Auto and repeats are dropped", { TransportKind::Auto, Sse, Sse, Ws }, 1, std::nullopt,
        { Step::Fail, Step::Fail }, { Sse, Ws, Sse } },
    { "a single kind never moves", { Sse }, 1, std::nullopt, { Step::Fail, Step::Fail },
        { Sse, Sse, Sse } },
    { "upgrade goes back to the first with a clean count", {}, 2, Poll,
        { Step::Fail, Step::Upgrade, Step::Fail, Step::Fail }, { Poll, Poll, Ws, Ws, Sse } },
    { "empty order is the default", {}, 2, std::nullopt, {}, { Ws } },
};

INSTANTIATE_TEST_SUITE_P(Table, NegotiatorTable, testing::ValuesIn(kCases),
    [](const testing::TestParamInfo<Case>& info) { return "case" + std::to_string(info.index); });

TEST(TransportNegotiator, OnFallbackWhenNotOnTheFirstKind)
{
    TransportNegotiator negotiator({}, 1);
    negotiator.start();
    EXPECT_FALSE(negotiator.onFallback());
    EXPECT_TRUE(negotiator.openFailed());
    EXPECT_TRUE(negotiator.onFallback());
    EXPECT_EQ(negotiator.preferred(), Ws);
    negotiator.upgraded();
    EXPECT_FALSE(negotiator.onFallback());
}

TEST(TransportNegotiator, OpenFailedSaysWhetherTheKindChanged)
{
    TransportNegotiator negotiator({}, 2);
    negotiator.start();
    EXPECT_FALSE(negotiator.openFailed());
    EXPECT_EQ(negotiator.failures(), 1);
    EXPECT_TRUE(negotiator.openFailed());
    EXPECT_EQ(negotiator.failures(), 0);
}

TEST(TransportNegotiator, ProbeDelaysDoubleUpToTheMaximumAndResetOnSuccessOfThePreferred)
{
    TransportNegotiator negotiator({}, 1, 100ms, 500ms);
    negotiator.start(Sse);
    const QList<std::chrono::milliseconds> expected { 100ms, 200ms, 400ms, 500ms, 500ms };
    QList<std::chrono::milliseconds> seen;
    for (int i = 0; i < 5; ++i) {
        seen.append(negotiator.nextProbeDelay());
    }
    EXPECT_EQ(seen, expected);
    // A success on the fallback does not reset the probe backoff ...
    negotiator.openSucceeded();
    EXPECT_EQ(negotiator.nextProbeDelay(), 500ms);
    // ... a success on the preferred kind does.
    negotiator.upgraded();
    negotiator.openSucceeded();
    EXPECT_EQ(negotiator.nextProbeDelay(), 100ms);
    // start() also starts the backoff over.
    negotiator.nextProbeDelay();
    negotiator.start(Sse);
    EXPECT_EQ(negotiator.nextProbeDelay(), 100ms);
}

TEST(TransportNegotiator, KindNamesRoundTrip)
{
    for (TransportKind kind : { Ws, Sse, Poll }) {
        EXPECT_EQ(transportKindFromName(transportKindName(kind)), kind);
    }
    EXPECT_EQ(transportKindName(TransportKind::Auto), QStringLiteral("auto"));
    EXPECT_EQ(transportKindFromName(QStringLiteral("auto")), std::nullopt);
    EXPECT_EQ(transportKindFromName(QStringLiteral("carrier-pigeon")), std::nullopt);
}

} // namespace
