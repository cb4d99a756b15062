// LaunchOptions: command line, server address forms, settings round trip.
#include "controllers/launchoptions.h"

#include <QSettings>
#include <QTemporaryDir>
#include <gtest/gtest.h>

using parley::desktop::LaunchOptions;

TEST(LaunchOptionsTest, ServerAddressesAreNormalisedToWebSocketUrls)
{
    const struct {
        const char* input;
        const char* expected; // empty: rejected
    } cases[] = {
        { "127.0.0.1:8080", "ws://127.0.0.1:8080/v1/ws" },
        { "ws://127.0.0.1:8080/v1/ws", "ws://127.0.0.1:8080/v1/ws" },
        { "http://chat.example:80", "ws://chat.example:80/v1/ws" },
        { "https://chat.example", "wss://chat.example/v1/ws" },
        { "wss://chat.example/custom", "wss://chat.example/custom" },
        { "  localhost:9000  ", "ws://localhost:9000/v1/ws" },
        { "ftp://chat.example", "" },
        { "", "" },
        { "ws://", "" },
    };
    for (const auto& c : cases) {
        const QUrl url = LaunchOptions::normalizeServerUrl(QString::fromUtf8(c.input));
        if (*c.expected == 0) {
            EXPECT_FALSE(url.isValid()) << c.input << " -> " << url.toString().toStdString();
        } else {
            EXPECT_EQ(url.toString().toStdString(), c.expected) << c.input;
        }
    }
}

TEST(LaunchOptionsTest, CommandLineOfTheDemoSkipsTheDialog)
{
    QString error;
    const auto options = LaunchOptions::fromArguments(
        { QStringLiteral("parley-desktop"), QStringLiteral("--server"),
            QStringLiteral("ws://127.0.0.1:8080/v1/ws"), QStringLiteral("--user"),
            QStringLiteral("alice"), QStringLiteral("--room"), QStringLiteral("#lobby"),
            QStringLiteral("--room"), QStringLiteral("dev") },
        &error);
    ASSERT_TRUE(options.has_value()) << error.toStdString();
    EXPECT_TRUE(options->isComplete());
    EXPECT_EQ(options->user, QStringLiteral("alice"));
    EXPECT_EQ(options->rooms, (QStringList { QStringLiteral("lobby"), QStringLiteral("dev") }));
}

TEST(LaunchOptionsTest, WithoutServerOrUserTheDialogIsNeeded)
{
    QString error;
    const auto options = LaunchOptions::fromArguments(
        { QStringLiteral("parley-desktop"), QStringLiteral("--user"), QStringLiteral("alice") },
        &error);
    ASSERT_TRUE(options.has_value());
    EXPECT_FALSE(options->isComplete());
}

TEST(LaunchOptionsTest, BadValuesAreUsageErrors)
{
    const QList<QStringList> bad {
        { QStringLiteral("p"), QStringLiteral("--server"), QStringLiteral("ftp://x") },
        { QStringLiteral("p"), QStringLiteral("--user"), QStringLiteral("not a name") },
        { QStringLiteral("p"), QStringLiteral("--room"), QStringLiteral("a room") },
        { QStringLiteral("p"), QStringLiteral("--unknown") },
        { QStringLiteral("p"), QStringLiteral("stray") },
    };
    for (const auto& args : bad) {
        QString error;
        EXPECT_FALSE(LaunchOptions::fromArguments(args, &error).has_value())
            << args.join(QLatin1Char(' ')).toStdString();
        EXPECT_FALSE(error.isEmpty());
    }
}

TEST(LaunchOptionsTest, SessionIsRememberedWithoutTheToken)
{
    QTemporaryDir dir;
    ASSERT_TRUE(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("parley.ini"));
    LaunchOptions options;
    options.server = QUrl(QStringLiteral("ws://10.0.0.1:8080/v1/ws"));
    options.user = QStringLiteral("alice");
    options.token = QStringLiteral("secret");
    options.rooms = { QStringLiteral("lobby"), QStringLiteral("dev") };
    {
        QSettings settings(path, QSettings::IniFormat);
        options.save(settings);
    }
    QSettings settings(path, QSettings::IniFormat);
    const auto saved = LaunchOptions::fromSettings(settings);
    EXPECT_EQ(saved.server, options.server);
    EXPECT_EQ(saved.user, options.user);
    EXPECT_EQ(saved.rooms, options.rooms);
    EXPECT_TRUE(saved.token.isEmpty());

    // The command line wins; saved rooms come after the requested one.
    LaunchOptions given;
    given.rooms = { QStringLiteral("dev"), QStringLiteral("ops") };
    const auto merged = given.completedWith(saved);
    EXPECT_EQ(merged.server, options.server);
    EXPECT_EQ(merged.rooms,
        (QStringList { QStringLiteral("dev"), QStringLiteral("ops"), QStringLiteral("lobby") }));
}
