// Compiles against the installed SDK only (C++17, as an embedder might), and runs: a Client with
// no server reachable must report the failure through a signal, not hang or crash.
#include <parley/client.h>

#include <QCoreApplication>
#include <QTimer>

#include <cstdio>

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    parley::ClientOptions options;
    options.endpoints = { QUrl(QStringLiteral("ws://127.0.0.1:1/v1/ws")) };
    options.user = QStringLiteral("consumer");
    parley::Client client(options);
    int result = 1;
    QObject::connect(&client, &parley::Client::errorOccurred, &app, [&](const parley::Error&) {
        result = 0;
        app.quit();
    });
    QTimer::singleShot(20000, &app, [&] { app.exit(2); });
    client.connectToServer();
    app.exec();
    std::printf("consumer: %s\n", result == 0 ? "error reported as expected" : "no error signal");
    return result;
}
