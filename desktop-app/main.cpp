// parley-desktop: parse the command line, sign in, open the window. Everything else lives in
// the parley_desktop_core library, which the tests link.
#include "app/chatsession.h"
#include "controllers/launchoptions.h"
#include "widgets/appicon.h"
#include "widgets/mainwindow.h"
#include "widgets/signindialog.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QSettings>
#include <cstdio>
#include <cstring>
#include <memory>

namespace {
//! --help and --version print and exit: they must work without a display, so they get a
//! QCoreApplication; everything else needs the GUI.
std::unique_ptr<QCoreApplication> createApplication(int& argc, char** argv)
{
    for (int i = 1; i < argc; ++i) {
        for (const char* flag : { "-h", "--help", "-?", "--help-all", "-v", "--version" }) {
            if (std::strcmp(argv[i], flag) == 0) {
                return std::make_unique<QCoreApplication>(argc, argv);
            }
        }
    }
    return std::make_unique<QApplication>(argc, argv);
}
} // namespace

int main(int argc, char** argv)
{
    using namespace parley::desktop;

    const auto app = createApplication(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("Parley"));
    QApplication::setApplicationName(QStringLiteral("parley-desktop"));
    QApplication::setApplicationDisplayName(QStringLiteral("Parley"));
    QApplication::setApplicationVersion(QStringLiteral(PARLEY_VERSION));
    QApplication::setDesktopFileName(QStringLiteral("parley-desktop"));

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Parley chat. With a server (--server or the argument) and --user the "
                       "sign-in dialog is skipped; with only a server it is prefilled."));
    LaunchOptions::addOptions(parser);
    parser.addHelpOption();
    parser.addVersionOption();
    parser.process(*app);
    QApplication::setWindowIcon(AppIcon::icon());

    QString error;
    const auto fromCommandLine = LaunchOptions::fromParser(parser, &error);
    if (!fromCommandLine) {
        std::fprintf(stderr, "parley-desktop: %s\n", qPrintable(error));
        return 2;
    }

    QSettings settings;
    const LaunchOptions saved = LaunchOptions::fromSettings(settings);
    LaunchOptions options;
    if (fromCommandLine->isComplete()) {
        // The saved rooms belong to the saved account on the saved server only.
        const bool sameAccount
            = saved.server == fromCommandLine->server && saved.user == fromCommandLine->user;
        options = sameAccount ? fromCommandLine->completedWith(saved) : *fromCommandLine;
    } else {
        SignInDialog dialog(fromCommandLine->completedWith(saved));
        if (dialog.exec() != QDialog::Accepted) {
            return 0;
        }
        options = dialog.options();
    }

    ChatSession session(options, &settings);
    session.start();
    session.window().show();
    return app->exec();
}
