// LogLimiter: a token bucket per log site; nothing refused goes unreported.
#include "common/loglimiter.h"

#include <QStringList>
#include <gtest/gtest.h>

namespace parley::server {
namespace {

QStringList g_messages;

void capture(QtMsgType, const QMessageLogContext&, const QString& message)
{
    g_messages.append(message);
}

class LogLimiterTest : public ::testing::Test {
protected:
    void TearDown() override { LogLimiter::setLinesPerSecond(LogLimiter::kDefaultLinesPerSecond); }
};

TEST_F(LogLimiterTest, AdmitsABurstThenCountsWhatItRefuses)
{
    LogLimiter::setLinesPerSecond(3);
    LogLimiter limiter("test_burst");
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(limiter.admit(1000), std::optional<std::uint64_t>(0)) << i;
    }
    for (int i = 0; i < 10; ++i) {
        EXPECT_FALSE(limiter.admit(1000)) << i;
    }
    // A third of a second later there is room for one line, which carries the count.
    EXPECT_FALSE(limiter.admit(1300));
    EXPECT_EQ(limiter.admit(1340), std::optional<std::uint64_t>(11));
    EXPECT_FALSE(limiter.admit(1340));
}

TEST_F(LogLimiterTest, ZeroAdmitsEveryLine)
{
    LogLimiter::setLinesPerSecond(0);
    LogLimiter limiter("test_unlimited");
    for (int i = 0; i < 1000; ++i) {
        ASSERT_EQ(limiter.admit(0), std::optional<std::uint64_t>(0));
    }
}

TEST_F(LogLimiterTest, FlushReportsTheCountOnce)
{
    LogLimiter::setLinesPerSecond(1);
    LogLimiter limiter("test_flush");
    EXPECT_TRUE(limiter.admit(0));
    EXPECT_FALSE(limiter.admit(0));
    EXPECT_FALSE(limiter.admit(0));
    g_messages.clear();
    const QtMessageHandler previous = qInstallMessageHandler(capture);
    LogLimiter::flushSuppressed(10); // no room yet: the count stays
    const QStringList early = g_messages;
    LogLimiter::flushSuppressed(2000);
    LogLimiter::flushSuppressed(4000); // reported once only
    qInstallMessageHandler(previous);
    EXPECT_FALSE(early.join('\n').contains("kind=test_flush")) << early.join('\n').toStdString();
    EXPECT_EQ(g_messages.filter("event=log_suppressed kind=test_flush suppressed=2").size(), 1)
        << g_messages.join('\n').toStdString();
    // The next admitted line has nothing more to report.
    EXPECT_EQ(limiter.admit(6000), std::optional<std::uint64_t>(0));
}

TEST(LogLimiterSuffixTest, NamesTheCountOnlyWhenThereIsOne)
{
    EXPECT_STREQ(LogLimiter::suffix(0), "");
    EXPECT_STREQ(LogLimiter::suffix(42), " suppressed=42");
}

} // namespace
} // namespace parley::server
