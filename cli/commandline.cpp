#include "commandline.h"

#include "exitcode.h"

#include <QCommandLineParser>
#include <QRegularExpression>
#include <parley/serveraddress.h>

namespace parley::cli {

namespace {

const QString kDefaultServer = QStringLiteral("127.0.0.1:8080");

struct Subcommand {
    const char* name;
    Invocation::Kind kind;
    const char* synopsis;
    const char* description;
};

const Subcommand kSubcommands[] = {
    { "send", Invocation::Kind::Send, "parley send ROOM [TEXT...] [--json] [--idempotency-key KEY]",
        "Posts TEXT (the words joined by spaces) to ROOM, or, without TEXT, one message per line\n"
        "of standard input (empty lines are skipped), in order, each once. Exits once every\n"
        "message is acknowledged by the server. Input of any size is read only as fast as the\n"
        "server acknowledges it. A dropped connection is waited out (the messages are resent\n"
        "under their client ids, which the server does not store twice). A message that is not\n"
        "acknowledged within --timeout, or that the server rejects, ends the command with its\n"
        "exit code: no later line is sent (a rejected line still lets the lines before it be\n"
        "acknowledged, so --json shows what was stored).\n"
        "\n"
        "To run a failed send again without storing any message twice, give both runs the same\n"
        "--idempotency-key KEY (and the same input, user and room): message N (line N of the\n"
        "input, blank lines counted; TEXT is message 1) gets the client id KEY:N, and the server\n"
        "answers a message it already stored with its original ack. The server remembers ids\n"
        "for its dedupe window (by default 10 minutes on one node, parleyd --dedupe-window; a\n"
        "day in a cluster, --redis-dedupe-ttl). With --json, each ack is printed as\n"
        "{\"client_id\",\"room\",\"seq\",\"line\"}." },
    { "tail", Invocation::Kind::Tail, "parley tail ROOM [--json]",
        "Follows ROOM and prints each new message as it arrives, until interrupted." },
    { "history", Invocation::Kind::History, "parley history ROOM [--limit N] [--json]",
        "Prints the newest N messages of ROOM (default 50), oldest first." },
    { "chat", Invocation::Kind::Chat, "parley chat ROOM",
        "Interactive chat: lines typed are sent to ROOM, messages and presence changes are\n"
        "printed as they arrive. End with Ctrl-D or Ctrl-C. Exits non-zero when a message could\n"
        "not be sent (the code of the first failure)." },
};

const Subcommand* findSubcommand(const QString& name)
{
    for (const auto& sub : kSubcommands) {
        if (name == QLatin1String(sub.name)) {
            return &sub;
        }
    }
    return nullptr;
}

struct Options {
    QCommandLineOption server { QStringLiteral("server"),
        QStringLiteral("Server: host:port, ws(s)://host:port[/path] or http(s)://host:port (env "
                       "PARLEY_SERVER; default %1).")
            .arg(kDefaultServer),
        QStringLiteral("ADDRESS") };
    QCommandLineOption user { QStringLiteral("user"),
        QStringLiteral("User name (env PARLEY_USER; default: the login name)."),
        QStringLiteral("NAME") };
    QCommandLineOption token { QStringLiteral("token"),
        QStringLiteral("Credential (env PARLEY_TOKEN)."), QStringLiteral("TOKEN") };
    QCommandLineOption timeout { QStringLiteral("timeout"),
        QStringLiteral("Seconds to wait for the connection and for answers (default 30)."),
        QStringLiteral("SECONDS") };
    QCommandLineOption json { QStringLiteral("json"),
        QStringLiteral("One JSON object per line (messages; for send: the acks).") };
    QCommandLineOption limit { QStringLiteral("limit"),
        QStringLiteral("How many messages (default 50)."), QStringLiteral("N") };
    QCommandLineOption idempotencyKey { QStringLiteral("idempotency-key"),
        QStringLiteral("send: message N gets the client id KEY:N, so a rerun with the same KEY "
                       "and input stores nothing twice (1..40 of [A-Za-z0-9._-])."),
        QStringLiteral("KEY") };
    QCommandLineOption transport { QStringLiteral("transport"),
        QStringLiteral("ws, sse, poll or auto (default auto)."), QStringLiteral("KIND") };
    QCommandLineOption help { { QStringLiteral("h"), QStringLiteral("help") },
        QStringLiteral("Show this help.") };
    QCommandLineOption version { QStringLiteral("version"), QStringLiteral("Show the version.") };
};

void addOptionsFor(QCommandLineParser& parser, const Options& o, const Subcommand* sub)
{
    parser.addOption(o.server);
    parser.addOption(o.user);
    parser.addOption(o.token);
    parser.addOption(o.timeout);
    parser.addOption(o.transport);
    parser.addOption(o.help);
    if (!sub) {
        parser.addOption(o.version);
        parser.addOption(o.json);
        parser.addOption(o.limit);
        parser.addOption(o.idempotencyKey);
        return;
    }
    if (sub->kind == Invocation::Kind::Send) {
        parser.addOption(o.idempotencyKey);
    }
    if (sub->kind != Invocation::Kind::Chat) {
        parser.addOption(o.json);
    }
    if (sub->kind == Invocation::Kind::History) {
        parser.addOption(o.limit);
    }
}

QString subcommandHelp(const Subcommand& sub)
{
    const Options o;
    QCommandLineParser parser;
    addOptionsFor(parser, o, &sub);
    QString text = QStringLiteral("Usage: %1\n\n%2\n\n")
                       .arg(QLatin1String(sub.synopsis), QLatin1String(sub.description));
    // helpText() starts with its own usage line; keep only the options part.
    const QString options = parser.helpText();
    const qsizetype at = options.indexOf(QLatin1String("Options:"));
    text += at >= 0 ? options.mid(at) : options;
    text += QStringLiteral("\nExit codes: see `parley --help`.\n");
    return text;
}

ParseResult usageError(const QString& message)
{
    ParseResult r;
    r.exitCode = ExitUsage;
    r.text = QStringLiteral("parley: %1\nTry `parley --help`.\n").arg(message);
    return r;
}

} // namespace

QString mainHelp()
{
    QString text = QStringLiteral("Usage: parley COMMAND ROOM [OPTIONS]\n"
                                  "\n"
                                  "Terminal client for a Parley chat server.\n"
                                  "\n"
                                  "Commands:\n");
    for (const auto& sub : kSubcommands) {
        text += QStringLiteral("  %1\n").arg(QLatin1String(sub.synopsis));
    }
    text += QStringLiteral(
        "\n"
        "Options (every command):\n"
        "  --server ADDRESS   host:port, ws(s)://host:port[/path] or http(s)://host:port; the\n"
        "                     path defaults to /v1/ws (env PARLEY_SERVER; default %1)\n"
        "  --user NAME        user name (env PARLEY_USER; default: the login name)\n"
        "  --token TOKEN      credential (env PARLEY_TOKEN)\n"
        "  --timeout SECONDS  wait at most this long to connect, for an answer, and for each\n"
        "                     message's ack across reconnects (default 30)\n"
        "  --transport KIND   ws, sse (Server-Sent Events), poll (long-poll) or auto (default:\n"
        "                     WebSocket, falling back to sse, then poll, and back when it can;\n"
        "                     a transport other than WebSocket is reported on stderr)\n"
        "  -h, --help         help; `parley COMMAND --help` for one command\n"
        "  --version          the version\n"
        "\n"
        "Standard input is only read by send (without TEXT) and chat; nothing ever prompts when\n"
        "standard input is not a terminal.\n"
        "\n")
                .arg(kDefaultServer);
    text += exitCodesHelp();
    return text;
}

ParseResult parseCommandLine(
    const QStringList& arguments, const std::function<QString(const char*)>& env)
{
    const Options o;
    QCommandLineParser parser;
    parser.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
    addOptionsFor(parser, o, nullptr);
    if (!parser.parse(QStringList { QStringLiteral("parley") } + arguments)) {
        return usageError(parser.errorText());
    }
    QStringList positional = parser.positionalArguments();
    if (positional.isEmpty()) {
        ParseResult r;
        if (parser.isSet(o.version)) {
            r.text = QStringLiteral("parley %1\n").arg(QStringLiteral(PARLEY_VERSION));
            return r;
        }
        if (parser.isSet(o.help)) {
            r.text = mainHelp();
            return r;
        }
        return usageError(QStringLiteral("a command is required (send, tail, history, chat)"));
    }
    const QString name = positional.takeFirst();
    const Subcommand* sub = findSubcommand(name);
    if (!sub) {
        return usageError(QStringLiteral("unknown command '%1'").arg(name));
    }
    if (parser.isSet(o.help)) {
        ParseResult r;
        r.text = subcommandHelp(*sub);
        return r;
    }
    // Options that exist but not for this command.
    if (parser.isSet(o.version)) {
        return usageError(QStringLiteral("--version takes no command"));
    }
    if (parser.isSet(o.json) && sub->kind == Invocation::Kind::Chat) {
        return usageError(QStringLiteral("chat has no --json"));
    }
    if (parser.isSet(o.limit) && sub->kind != Invocation::Kind::History) {
        return usageError(QStringLiteral("--limit is only for history"));
    }
    if (parser.isSet(o.idempotencyKey) && sub->kind != Invocation::Kind::Send) {
        return usageError(QStringLiteral("--idempotency-key is only for send"));
    }
    Invocation inv;
    inv.kind = sub->kind;
    if (positional.isEmpty()) {
        return usageError(QStringLiteral("%1: ROOM is required").arg(name));
    }
    inv.room = positional.takeFirst();
    static const QRegularExpression nameRule(QStringLiteral("^[A-Za-z0-9._-]{1,64}$"));
    if (!nameRule.match(inv.room).hasMatch()) {
        return usageError(QStringLiteral("room name '%1' is not 1..64 characters of [A-Za-z0-9._-]")
                              .arg(inv.room));
    }
    if (sub->kind == Invocation::Kind::Send) {
        inv.texts = positional;
        if (!inv.texts.isEmpty() && inv.texts.join(QLatin1Char(' ')).isEmpty()) {
            return usageError(QStringLiteral("send: TEXT is empty"));
        }
    } else if (!positional.isEmpty()) {
        return usageError(
            QStringLiteral("%1: unexpected argument '%2'").arg(name, positional.first()));
    }
    inv.json = parser.isSet(o.json);
    if (parser.isSet(o.idempotencyKey)) {
        // At most 40 characters: "KEY:N" stays within the protocol's 64-byte client ids.
        static const QRegularExpression keyRule(QStringLiteral("^[A-Za-z0-9._-]{1,40}$"));
        inv.idempotencyKey = parser.value(o.idempotencyKey);
        if (!keyRule.match(inv.idempotencyKey).hasMatch()) {
            return usageError(
                QStringLiteral("--idempotency-key '%1' is not 1..40 characters of [A-Za-z0-9._-]")
                    .arg(inv.idempotencyKey));
        }
    }
    if (parser.isSet(o.limit)) {
        bool ok = false;
        inv.limit = parser.value(o.limit).toInt(&ok);
        if (!ok || inv.limit < 1 || inv.limit > 1000000) {
            return usageError(QStringLiteral("--limit must be a positive number"));
        }
    }
    if (parser.isSet(o.timeout)) {
        bool ok = false;
        inv.timeoutSeconds = parser.value(o.timeout).toInt(&ok);
        if (!ok || inv.timeoutSeconds < 1) {
            return usageError(QStringLiteral("--timeout must be a positive number of seconds"));
        }
    }

    if (parser.isSet(o.transport)) {
        const QString kind = parser.value(o.transport);
        if (kind == QLatin1String("ws")) {
            inv.transport = TransportKind::WebSocket;
        } else if (kind == QLatin1String("sse")) {
            inv.transport = TransportKind::Sse;
        } else if (kind == QLatin1String("poll")) {
            inv.transport = TransportKind::LongPoll;
        } else if (kind != QLatin1String("auto")) {
            return usageError(QStringLiteral("--transport must be ws, sse, poll or auto"));
        }
    }

    const auto pick = [&](const QCommandLineOption& option, const char* variable) {
        return parser.isSet(option) ? parser.value(option) : env(variable);
    };
    QString server = pick(o.server, "PARLEY_SERVER");
    if (server.isEmpty()) {
        server = kDefaultServer;
    }
    const ServerAddress address = ServerAddress::parse(server);
    if (!address.isValid()) {
        return usageError(QStringLiteral("server '%1': %2").arg(server, address.error));
    }
    inv.server = address.url;
    inv.serverName = address.hostAndPort();
    inv.user = pick(o.user, "PARLEY_USER");
    if (inv.user.isEmpty()) {
        inv.user = env("USER");
    }
    if (!nameRule.match(inv.user).hasMatch()) {
        return usageError(inv.user.isEmpty()
                ? QStringLiteral("no user name: use --user NAME or PARLEY_USER")
                : QStringLiteral("user name '%1' is not 1..64 characters of [A-Za-z0-9._-]")
                      .arg(inv.user));
    }
    inv.token = pick(o.token, "PARLEY_TOKEN");

    ParseResult r;
    r.run = true;
    r.invocation = inv;
    return r;
}

} // namespace parley::cli
