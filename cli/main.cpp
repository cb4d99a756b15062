// parley: the terminal client. Everything but wiring lives in parley_cli.
#include "chatcommand.h"
#include "commandline.h"
#include "exitcode.h"
#include "historycommand.h"
#include "sendcommand.h"
#include "signalwatcher.h"
#include "tailcommand.h"

#include <QCoreApplication>
#include <csignal>
#include <cstdio>
#include <memory>

using namespace parley::cli;

int main(int argc, char** argv)
{
    // A reader that left (`parley tail ROOM | head -1`) must not kill the process in the middle
    // of a write: the write fails with EPIPE instead and the command ends with ExitBrokenPipe.
    // (Sockets need it too; Qt's network code would set it on its own.)
    std::signal(SIGPIPE, SIG_IGN);
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("parley"));

    const ParseResult parsed = parseCommandLine(QCoreApplication::arguments().mid(1),
        [](const char* name) { return qEnvironmentVariable(name); });
    if (!parsed.run) {
        std::fputs(parsed.text.toLocal8Bit().constData(), parsed.exitCode == 0 ? stdout : stderr);
        return parsed.exitCode;
    }

    std::unique_ptr<Command> command;
    switch (parsed.invocation.kind) {
    case Invocation::Kind::Send:
        command = std::make_unique<SendCommand>(parsed.invocation);
        break;
    case Invocation::Kind::Tail:
        command = std::make_unique<TailCommand>(parsed.invocation);
        break;
    case Invocation::Kind::History:
        command = std::make_unique<HistoryCommand>(parsed.invocation);
        break;
    case Invocation::Kind::Chat:
        command = std::make_unique<ChatCommand>(parsed.invocation);
        break;
    }
    QObject::connect(command.get(), &Command::finished, &app, &QCoreApplication::exit);
    SignalWatcher watcher;
    QObject::connect(&watcher, &SignalWatcher::interrupted, command.get(), &Command::interrupt);
    command->start();
    return app.exec();
}
