#include "controllers/launchoptions.h"

#include "controllers/chatcontroller.h"

#include <QCommandLineParser>
#include <QRegularExpression>
#include <QSettings>
#include <parley/serveraddress.h>

namespace parley::desktop {

namespace {
const QString ServerKey = QStringLiteral("session/server");
const QString UserKey = QStringLiteral("session/user");
const QString RoomsKey = QStringLiteral("session/rooms");
} // namespace

QUrl LaunchOptions::defaultServer()
{
    return QUrl(QStringLiteral("ws://127.0.0.1:8080/v1/ws"));
}

void LaunchOptions::addOptions(QCommandLineParser& parser)
{
    parser.addOptions({
        { QStringLiteral("server"),
            QStringLiteral("Server to connect to: host:port, ws(s)://host:port[/path] or "
                           "http(s)://host:port."),
            QStringLiteral("address") },
        { QStringLiteral("user"), QStringLiteral("User name to sign in as."),
            QStringLiteral("name") },
        { QStringLiteral("token"), QStringLiteral("Credential (not needed with --dev-auth)."),
            QStringLiteral("token") },
        { QStringLiteral("room"),
            QStringLiteral("Room to open (repeatable; the first one is shown)."),
            QStringLiteral("room") },
    });
    parser.addPositionalArgument(QStringLiteral("server"),
        QStringLiteral("Server to connect to, as with --server (what the desktop entry passes)."),
        QStringLiteral("[server]"));
}

std::optional<LaunchOptions> LaunchOptions::fromParser(
    const QCommandLineParser& parser, QString* error)
{
    auto fail = [error](const QString& text) {
        if (error) {
            *error = text;
        }
        return std::nullopt;
    };
    const QStringList positional = parser.positionalArguments();
    if (positional.size() > 1) {
        return fail(QStringLiteral("unexpected argument: %1 (one server address at most)")
                        .arg(positional.at(1)));
    }
    const bool serverOption = parser.isSet(QStringLiteral("server"));
    if (serverOption && !positional.isEmpty()) {
        return fail(QStringLiteral("give the server once: --server %1 or %2")
                        .arg(parser.value(QStringLiteral("server")), positional.first()));
    }
    LaunchOptions options;
    const QString server
        = serverOption ? parser.value(QStringLiteral("server")) : positional.value(0);
    if (serverOption || !positional.isEmpty()) {
        const parley::ServerAddress address = parley::ServerAddress::parse(server);
        if (!address.isValid()) {
            return fail(
                QStringLiteral("not a server address: '%1': %2").arg(server, address.error));
        }
        options.server = address.url;
    }
    options.user = parser.value(QStringLiteral("user")).trimmed();
    static const QRegularExpression validUser(QStringLiteral("^[A-Za-z0-9._-]{1,64}$"));
    if (!options.user.isEmpty() && !validUser.match(options.user).hasMatch()) {
        return fail(QStringLiteral("not a user name: %1").arg(options.user));
    }
    options.token = parser.value(QStringLiteral("token"));
    for (const QString& value : parser.values(QStringLiteral("room"))) {
        QString name = value.trimmed();
        if (name.startsWith(QLatin1Char('#'))) {
            name.remove(0, 1);
        }
        if (!ChatController::isValidRoomName(name)) {
            return fail(QStringLiteral("not a room name: %1").arg(value));
        }
        if (!options.rooms.contains(name)) {
            options.rooms.append(name);
        }
    }
    return options;
}

std::optional<LaunchOptions> LaunchOptions::fromArguments(
    const QStringList& arguments, QString* error)
{
    QCommandLineParser parser;
    addOptions(parser);
    if (!parser.parse(arguments)) {
        if (error) {
            *error = parser.errorText();
        }
        return std::nullopt;
    }
    return fromParser(parser, error);
}

LaunchOptions LaunchOptions::fromSettings(const QSettings& settings)
{
    LaunchOptions options;
    options.server = parley::ServerAddress::parse(settings.value(ServerKey).toString()).url;
    options.user = settings.value(UserKey).toString();
    options.rooms = settings.value(RoomsKey).toStringList();
    options.rooms.removeIf([](const QString& r) { return !ChatController::isValidRoomName(r); });
    return options;
}

void LaunchOptions::save(QSettings& settings) const
{
    settings.setValue(ServerKey, server.toString());
    settings.setValue(UserKey, user);
    settings.setValue(RoomsKey, rooms);
}

LaunchOptions LaunchOptions::completedWith(const LaunchOptions& saved) const
{
    LaunchOptions merged = *this;
    if (!merged.server.isValid()) {
        merged.server = saved.server;
    }
    if (merged.user.isEmpty()) {
        merged.user = saved.user;
    }
    // Rooms asked for on the command line come first (the first is shown), then the others
    // the user had open.
    for (const auto& room : saved.rooms) {
        if (!merged.rooms.contains(room)) {
            merged.rooms.append(room);
        }
    }
    return merged;
}

} // namespace parley::desktop
