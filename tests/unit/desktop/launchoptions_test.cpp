// LaunchOptions: command line, server address forms, settings round trip.
#include "controllers/launchoptions.h"

#include <QSettings>
#include <QTemporaryDir>
#include <gtest/gtest.h>

using parley::desktop::LaunchOptions;

TEST(LaunchOptionsTest, ServerAddressesAreNormalisedToWebSocketUrls)
{
    // The forms of parley::ServerAddress (tested in full with the SDK), through the command
    // line, both as --server and as the positional argument the desktop entry's %u passes.
    const struct {
        const char* input;
        const char* expected; // empty: rejected
    } cases[] = {
        { "127.0.0.1:8080", "ws://127.0.0.1:8080/v1/ws" },
        { "ws://127.0.0.1:8080", "ws://127.0.0.1:8080/v1/ws" },
        { "ws://127.0.0.1:8080/v1/ws", "ws://127.0.0.1:8080/v1/ws" },
        { "http://chat.example:80", "ws://chat.example:80/v1/ws" },
        { "https://chat.example", "wss://chat.example/v1/ws" },
        { "wss://chat.example/custom", "wss://chat.example/custom" },
        { "  localhost:9000  ", "ws://localhost:9000/v1/ws" },
        { "ftp://chat.example", "" },
        { "", "" },
        { "ws://", "" },
        { "host:0", "" },
    };
    for (const auto& c : cases) {
        const QString input = QString::fromUtf8(c.input);
        for (const QStringList& arguments :
            { QStringList { QStringLiteral("parley-desktop"), QStringLiteral("--server"), input },
                QStringList { QStringLiteral("parley-desktop"), input } }) {
            QString error;
            const auto options = LaunchOptions::fromArguments(arguments, &error);
            const std::string args = arguments.join(QLatin1Char(' ')).toStdString();
            if (*c.expected == 0) {
                EXPECT_FALSE(options.has_value()) << args;
                EXPECT_TRUE(error.contains(QLatin1String("not a server address"))) << args;
            } else {
                ASSERT_TRUE(options.has_value()) << args << ": " << error.toStdString();
                EXPECT_EQ(options->server.toString().toStdString(), c.expected) << args;
            }
        }
    }
}

TEST(LaunchOptionsTest, TheDesktopEntryArgumentIsTheServer)
{
    // Exec=parley-desktop %u: a URL (or nothing) as the only argument starts the app with that
    // server; with --user too, the sign-in dialog is skipped.
    QString error;
    auto options = LaunchOptions::fromArguments(
        { QStringLiteral("parley-desktop"), QStringLiteral("https://chat.example:8443") }, &error);
    ASSERT_TRUE(options.has_value()) << error.toStdString();
    EXPECT_EQ(options->server, QUrl(QStringLiteral("wss://chat.example:8443/v1/ws")));
    EXPECT_FALSE(options->isComplete()) << "no user yet: the dialog asks, prefilled";

    options = LaunchOptions::fromArguments(
        { QStringLiteral("parley-desktop"), QStringLiteral("--user"), QStringLiteral("alice"),
            QStringLiteral("127.0.0.1:8080") },
        &error);
    ASSERT_TRUE(options.has_value()) << error.toStdString();
    EXPECT_TRUE(options->isComplete());
    EXPECT_EQ(options->server, QUrl(QStringLiteral("ws://127.0.0.1:8080/v1/ws")));

    options = LaunchOptions::fromArguments({ QStringLiteral("parley-desktop") }, &error);
    ASSERT_TRUE(options.has_value()) << error.toStdString();
    EXPECT_FALSE(options->server.isValid());
}

TEST(LaunchOptionsTest, ABadAddressSaysWhy)
{
    QString error;
    EXPECT_FALSE(LaunchOptions::fromArguments(
        { QStringLiteral("parley-desktop"), QStringLiteral("chat.example:99999") }, &error)
                     .has_value());
    EXPECT_EQ(error,
        QStringLiteral("not a server address: 'chat.example:99999': the port must be a number "
                       "from 1 to 65535"));
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
        { QStringLiteral("p"), QStringLiteral("host:1"), QStringLiteral("host:2") },
        { QStringLiteral("p"), QStringLiteral("--server"), QStringLiteral("host:1"),
            QStringLiteral("host:2") },
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
