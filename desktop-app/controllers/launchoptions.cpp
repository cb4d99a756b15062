#include "controllers/launchoptions.h"

#include "controllers/chatcontroller.h"

#include <QCommandLineParser>
#include <QRegularExpression>
#include <QSettings>

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

QUrl LaunchOptions::normalizeServerUrl(const QString& text)
{
    QString trimmed = text.trimmed();
    if (trimmed.isEmpty()) {
        return {};
    }
    if (!trimmed.contains(QStringLiteral("://"))) {
        trimmed.prepend(QStringLiteral("ws://"));
    }
    QUrl url(trimmed, QUrl::StrictMode);
    if (!url.isValid() || url.host().isEmpty()) {
        return {};
    }
    const QString scheme = url.scheme().toLower();
    if (scheme == QLatin1String("http")) {
        url.setScheme(QStringLiteral("ws"));
    } else if (scheme == QLatin1String("https")) {
        url.setScheme(QStringLiteral("wss"));
    } else if (scheme != QLatin1String("ws") && scheme != QLatin1String("wss")) {
        return {};
    }
    if (url.path().isEmpty() || url.path() == QLatin1String("/")) {
        url.setPath(QStringLiteral("/v1/ws"));
    }
    return url;
}

void LaunchOptions::addOptions(QCommandLineParser& parser)
{
    parser.addOptions({
        { QStringLiteral("server"),
            QStringLiteral("Server to connect to, e.g. ws://127.0.0.1:8080/v1/ws or host:port."),
            QStringLiteral("url") },
        { QStringLiteral("user"), QStringLiteral("User name to sign in as."),
            QStringLiteral("name") },
        { QStringLiteral("token"), QStringLiteral("Credential (not needed with --dev-auth)."),
            QStringLiteral("token") },
        { QStringLiteral("room"),
            QStringLiteral("Room to open (repeatable; the first one is shown)."),
            QStringLiteral("room") },
    });
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
    if (!parser.positionalArguments().isEmpty()) {
        return fail(
            QStringLiteral("unexpected argument: %1").arg(parser.positionalArguments().first()));
    }
    LaunchOptions options;
    const QString server = parser.value(QStringLiteral("server"));
    if (!server.isEmpty()) {
        options.server = normalizeServerUrl(server);
        if (!options.server.isValid()) {
            return fail(QStringLiteral("not a server URL: %1").arg(server));
        }
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
    options.server = normalizeServerUrl(settings.value(ServerKey).toString());
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
