// ServerConfig::parse: defaults, every flag, and the refusals.
#include "app/serverconfig.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

namespace parley::server {
namespace {

ServerConfig::ParseResult parse(QStringList args)
{
    args.prepend(QStringLiteral("parleyd"));
    return ServerConfig::parse(args);
}

ServerConfig parseOk(QStringList args)
{
    const auto result = parse(std::move(args));
    if (const auto* exit = std::get_if<ServerConfig::Exit>(&result)) {
        ADD_FAILURE() << "unexpected exit " << exit->code << ": " << exit->text.toStdString();
        return {};
    }
    return std::get<ServerConfig>(result);
}

ServerConfig::Exit parseExit(QStringList args)
{
    const auto result = parse(args);
    if (const auto* exit = std::get_if<ServerConfig::Exit>(&result)) {
        return *exit;
    }
    ADD_FAILURE() << "expected the parser to exit for " << args.join(' ').toStdString();
    return {};
}

TEST(ServerConfigTest, Defaults)
{
    const ServerConfig config = parseOk({ "--dev-auth" });
    EXPECT_EQ(config.host, "127.0.0.1");
    EXPECT_EQ(config.port, 8080);
    EXPECT_EQ(config.dataDir, "./parley-data");
    EXPECT_TRUE(config.nodeId.isEmpty());
    EXPECT_TRUE(config.devAuth);
    EXPECT_EQ(config.maxFrameBytes, 65536u);
    EXPECT_EQ(config.maxBodyBytes, 16384u);
    EXPECT_EQ(config.maxRooms, 100u);
    EXPECT_EQ(config.heartbeatMs, 30000u);
    EXPECT_EQ(config.presenceMaxMembers, 1000u);
    EXPECT_GE(config.effectiveIoThreads(), 1);
}

TEST(ServerConfigTest, RetentionAndDedupeWindow)
{
    const ServerConfig defaults = parseOk({ "--dev-auth" });
    EXPECT_EQ(defaults.historyRetainCount, 0u); // keep everything
    EXPECT_EQ(defaults.historyRetainAgeS, 0u);
    EXPECT_EQ(defaults.dedupeWindowS, 600u); // 10 minutes
    const ServerConfig config = parseOk({ "--dev-auth", "--history-retain-count", "1000",
        "--history-retain-age", "86400", "--dedupe-window", "60" });
    EXPECT_EQ(config.historyRetainCount, 1000u);
    EXPECT_EQ(config.historyRetainAgeS, 86400u);
    EXPECT_EQ(config.dedupeWindowS, 60u);
}

TEST(ServerConfigTest, PresenceTtlAndRedisHistoryAge)
{
    const ServerConfig defaults = parseOk({ "--dev-auth" });
    EXPECT_EQ(defaults.presenceTtlS, 60u);
    EXPECT_EQ(defaults.redisHistoryAgeS, 0u); // any age
    const ServerConfig config
        = parseOk({ "--dev-auth", "--presence-ttl", "3", "--redis-history-age", "3600" });
    EXPECT_EQ(config.presenceTtlS, 3u);
    EXPECT_EQ(config.redisHistoryAgeS, 3600u);
}

TEST(ServerConfigTest, WebSocketLimits)
{
    const ServerConfig defaults = parseOk({ "--dev-auth" });
    EXPECT_EQ(defaults.helloTimeoutMs, 10000u);
    EXPECT_EQ(defaults.frameTimeoutMs, 5000u);
    EXPECT_EQ(defaults.minFrameRate, 1024u);
    EXPECT_EQ(defaults.stallTimeoutMs, 10000u);
    const ServerConfig config = parseOk({ "--dev-auth", "--hello-timeout-ms", "300",
        "--frame-timeout-ms", "400", "--min-frame-rate", "10", "--stall-timeout-ms", "500" });
    EXPECT_EQ(config.helloTimeoutMs, 300u);
    EXPECT_EQ(config.frameTimeoutMs, 400u);
    EXPECT_EQ(config.minFrameRate, 10u);
    EXPECT_EQ(config.stallTimeoutMs, 500u);
    // No limit can be switched off.
    for (const char* flag :
        { "--hello-timeout-ms", "--frame-timeout-ms", "--min-frame-rate", "--stall-timeout-ms" }) {
        EXPECT_EQ(parseExit({ "--dev-auth", flag, "0" }).code, 2) << flag;
    }
    const ServerConfig::Exit help = parseExit({ "--help" });
    for (const char* flag :
        { "--hello-timeout-ms", "--frame-timeout-ms", "--min-frame-rate", "--stall-timeout-ms" }) {
        EXPECT_TRUE(help.text.contains(QLatin1String(flag))) << flag;
    }
}

TEST(ServerConfigTest, EveryFlag)
{
    const ServerConfig config
        = parseOk({ "--listen", "0.0.0.0:0", "--data-dir", "/tmp/x", "--node-id", "node-a",
            "--auth-file", "/etc/parley/tokens", "--io-threads", "3", "--max-frame-bytes", "4096",
            "--max-body-bytes", "1000", "--max-rooms", "7", "--heartbeat-ms", "500", "--rate-limit",
            "20", "--storage-queue", "64", "--max-outbound-bytes", "65536", "--header-timeout-ms",
            "250", "--presence-max-members", "0" });
    EXPECT_EQ(config.host, "0.0.0.0");
    EXPECT_EQ(config.port, 0);
    EXPECT_EQ(config.dataDir, "/tmp/x");
    EXPECT_EQ(config.nodeId, "node-a");
    EXPECT_FALSE(config.devAuth);
    EXPECT_EQ(config.authFile, "/etc/parley/tokens");
    EXPECT_EQ(config.ioThreads, 3);
    EXPECT_EQ(config.effectiveIoThreads(), 3);
    EXPECT_EQ(config.maxFrameBytes, 4096u);
    EXPECT_EQ(config.maxBodyBytes, 1000u);
    EXPECT_EQ(config.maxRooms, 7u);
    EXPECT_EQ(config.heartbeatMs, 500u);
    EXPECT_EQ(config.rateLimit, 20u);
    EXPECT_EQ(config.storageQueue, 64u);
    EXPECT_EQ(config.maxOutboundBytes, 65536u);
    EXPECT_EQ(config.headerTimeoutMs, 250u);
    EXPECT_EQ(config.presenceMaxMembers, 0u);
}

TEST(ServerConfigTest, HttpTransportLimits)
{
    const ServerConfig defaults = parseOk({ "--dev-auth" });
    EXPECT_EQ(defaults.maxHeaderBytes, 8192u);
    EXPECT_EQ(defaults.maxSessionBodyBytes, 32768u);
    EXPECT_EQ(defaults.logRateLimit, 10u);
    const ServerConfig config = parseOk({ "--dev-auth", "--max-header-bytes", "4096",
        "--max-session-body-bytes", "1000", "--log-rate-limit", "0" });
    EXPECT_EQ(config.maxHeaderBytes, 4096u);
    EXPECT_EQ(config.maxSessionBodyBytes, 1000u);
    EXPECT_EQ(config.logRateLimit, 0u); // every line
    const ServerConfig::Exit help = parseExit({ "--help" });
    for (const char* flag :
        { "--max-header-bytes", "--max-session-body-bytes", "--log-rate-limit" }) {
        EXPECT_TRUE(help.text.contains(flag)) << flag;
    }
}

TEST(ServerConfigTest, ConnectionAndSessionCaps)
{
    const ServerConfig defaults = parseOk({ "--dev-auth" });
    EXPECT_EQ(defaults.maxConnections, 0u); // derived from the open-file limit
    EXPECT_EQ(defaults.maxConnectionsPerIp, 1000u);
    EXPECT_EQ(defaults.maxSessionsPerUser, 64u);
    EXPECT_EQ(defaults.sessionRatePerIp, 20u);
    EXPECT_EQ(defaults.httpAttachTimeoutMs, 10000u);
    // The open-file limit less the reserve, never fewer than 64.
    rlimit limit {};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
    if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur > 64 + ServerConfig::kReservedDescriptors) {
        EXPECT_EQ(defaults.effectiveMaxConnections(),
            std::uint32_t(limit.rlim_cur) - ServerConfig::kReservedDescriptors);
    }
    EXPECT_GE(defaults.effectiveMaxConnections(), 64u);

    const ServerConfig config = parseOk({ "--dev-auth", "--max-connections", "500",
        "--max-connections-per-ip", "0", "--max-sessions-per-user", "3", "--session-rate-per-ip",
        "0", "--http-attach-timeout-ms", "2000" });
    EXPECT_EQ(config.effectiveMaxConnections(), 500u);
    EXPECT_EQ(config.maxConnectionsPerIp, 0u); // off
    EXPECT_EQ(config.maxSessionsPerUser, 3u);
    EXPECT_EQ(config.sessionRatePerIp, 0u); // off
    EXPECT_EQ(config.httpAttachTimeoutMs, 2000u);
    const ServerConfig::Exit help = parseExit({ "--help" });
    for (const char* flag : { "--max-connections", "--max-connections-per-ip",
             "--max-sessions-per-user", "--session-rate-per-ip", "--http-attach-timeout-ms" }) {
        EXPECT_TRUE(help.text.contains(flag)) << flag;
    }
}

TEST(ServerConfigTest, ListenForms)
{
    EXPECT_EQ(parseOk({ "--dev-auth", "--listen", "localhost:9000" }).host, "localhost");
    const ServerConfig v6 = parseOk({ "--dev-auth", "--listen", "[::1]:9001" });
    EXPECT_EQ(v6.host, "::1");
    EXPECT_EQ(v6.port, 9001);
}

TEST(ServerConfigTest, RefusesToStartWithoutAuth)
{
    const ServerConfig::Exit exit = parseExit({});
    EXPECT_NE(exit.code, 0);
    EXPECT_TRUE(exit.text.contains("--dev-auth"));
    EXPECT_TRUE(exit.text.contains("--auth-file"));
}

TEST(ServerConfigTest, HelpAndVersionExitZero)
{
    const ServerConfig::Exit help = parseExit({ "--help" });
    EXPECT_EQ(help.code, 0);
    EXPECT_TRUE(help.text.contains("--listen"));
    EXPECT_TRUE(help.text.contains("--heartbeat-ms"));
    const ServerConfig::Exit version = parseExit({ "--version" });
    EXPECT_EQ(version.code, 0);
    EXPECT_TRUE(version.text.contains(PARLEY_VERSION));
}

struct BadArgs {
    const char* name;
    QStringList args;
};

class ServerConfigBadArgs : public ::testing::TestWithParam<BadArgs> { };

TEST_P(ServerConfigBadArgs, IsAUsageError)
{
    QStringList args = GetParam().args;
    args.prepend("--dev-auth");
    const ServerConfig::Exit exit = parseExit(args);
    EXPECT_EQ(exit.code, 2);
    EXPECT_FALSE(exit.text.isEmpty());
}

INSTANTIATE_TEST_SUITE_P(Table, ServerConfigBadArgs,
    ::testing::Values(BadArgs { "ListenNoPort", { "--listen", "127.0.0.1" } },
        BadArgs { "ListenBadPort", { "--listen", "127.0.0.1:70000" } },
        BadArgs { "ListenPortNotNumber", { "--listen", "127.0.0.1:http" } },
        BadArgs { "ListenBadHost", { "--listen", "not a host:80" } },
        BadArgs { "ListenUnclosedV6", { "--listen", "[::1:80" } },
        BadArgs { "UnknownFlag", { "--frobnicate" } }, BadArgs { "Positional", { "extra" } },
        BadArgs { "ZeroThreads", { "--io-threads", "0" } },
        BadArgs { "NegativeRooms", { "--max-rooms", "-1" } },
        BadArgs { "HeartbeatTooSmall", { "--heartbeat-ms", "1" } },
        BadArgs {
            "BodyNotBelowFrame", { "--max-frame-bytes", "1024", "--max-body-bytes", "1024" } },
        BadArgs { "BadNodeId", { "--node-id", "no spaces" } },
        BadArgs { "EmptyDataDir", { "--data-dir", "" } },
        BadArgs { "MissingValue", { "--max-rooms" } },
        BadArgs { "NegativePresenceLimit", { "--presence-max-members", "-1" } },
        BadArgs { "ZeroDedupeWindow", { "--dedupe-window", "0" } },
        BadArgs { "RetainCountNotNumber", { "--history-retain-count", "many" } },
        BadArgs { "ZeroPresenceTtl", { "--presence-ttl", "0" } },
        BadArgs { "NegativeRedisHistoryAge", { "--redis-history-age", "-5" } },
        BadArgs { "TinyHeaderLimit", { "--max-header-bytes", "100" } },
        BadArgs { "TinySessionBody", { "--max-session-body-bytes", "10" } },
        BadArgs { "NegativeLogRate", { "--log-rate-limit", "-1" } },
        BadArgs { "ZeroMaxConnections", { "--max-connections", "0" } },
        BadArgs { "NegativePerIpCap", { "--max-connections-per-ip", "-1" } },
        BadArgs { "UserCapNotNumber", { "--max-sessions-per-user", "few" } },
        BadArgs { "TinyAttachTimeout", { "--http-attach-timeout-ms", "1" } }),
    [](const ::testing::TestParamInfo<BadArgs>& info) { return std::string(info.param.name); });

} // namespace
} // namespace parley::server
