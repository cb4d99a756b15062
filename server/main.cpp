// parleyd: the Parley chat server. Everything lives in parley_server (server/app/ wires it);
// this file only parses the command line, installs signal handling and runs the event loop.
#include "app/server.h"
#include "app/serverconfig.h"
#include "app/shutdownsignals.h"
#include "eventdispatcherfactory.h"

#include <QCoreApplication>
#include <QLoggingCategory>
#include <cstdio>

int main(int argc, char** argv)
{
    // One structured line per event on stderr; stdout carries only the "listening" line.
    qSetMessagePattern(QStringLiteral(
        "ts=%{time yyyy-MM-ddThh:mm:ss.zzz} level=%{type} cat=%{category} %{message}"));
    // The epoll dispatcher must be installed before the application object exists: its wake-up
    // cost does not grow with the number of idle sockets (Qt's poll()-based ones do).
    if (auto dispatcher = parley::server::createEventDispatcher()) {
        QCoreApplication::setEventDispatcher(dispatcher.release());
    }
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("parleyd"));
    QCoreApplication::setApplicationVersion(QStringLiteral(PARLEY_VERSION));

    using parley::server::ServerConfig;
    const ServerConfig::ParseResult parsed = ServerConfig::parse(QCoreApplication::arguments());
    if (const auto* exit = std::get_if<ServerConfig::Exit>(&parsed)) {
        const QByteArray text = exit->text.toLocal8Bit();
        std::fputs(text.constData(), exit->code == 0 ? stdout : stderr);
        return exit->code;
    }

    parley::server::ShutdownSignals signalHandler;
    parley::server::Server server(std::get<ServerConfig>(parsed));
    QString error;
    if (!server.start(&error)) {
        std::fprintf(stderr, "parleyd: %s\n", error.toLocal8Bit().constData());
        return 1;
    }
    std::printf("parleyd listening on %s\n", server.listenAddress().toLocal8Bit().constData());
    std::fflush(stdout);

    QObject::connect(&signalHandler, &parley::server::ShutdownSignals::received, &server,
        [&server](int signalNumber) {
            qInfo("event=signal signal=%d", signalNumber);
            server.shutdown();
        });
    QObject::connect(
        &server, &parley::server::Server::stopped, &app, [] { QCoreApplication::exit(0); });
    return QCoreApplication::exec();
}
