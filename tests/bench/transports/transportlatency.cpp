// parley-transport-latency: end-to-end latency of a message from one SDK client to another, per
// transport (WebSocket, SSE, long-poll), side by side in one run (issue 6's benchmark).
//
// For each transport: a sender and a receiver (real parley::Clients forced to that transport)
// join one room; the sender posts --count messages at a steady --rate (scheduled by a clock, so a
// late tick does not slow the rate down); the latency of a message is the time from send() to
// the receiver's messageReceived(), both in this process on one monotonic clock. The clients share
// one event loop, so the figures include its scheduling; the server is a fresh parleyd (or --url).
// Every message must arrive once and in order: a loss, duplicate or reorder makes the exit code 1
// (the ctest smoke run relies on it).
#include "serverprocess.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QHash>
#include <QTimer>
#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <parley/client.h>
#include <vector>

using namespace parley;

namespace {

struct Result {
    TransportKind kind = TransportKind::WebSocket;
    std::vector<double> latenciesMs;
    int received = 0;
    int duplicates = 0;
    int outOfOrder = 0;
    QString error;
};

double percentile(std::vector<double> values, double p)
{
    if (values.empty()) {
        return 0;
    }
    std::sort(values.begin(), values.end());
    const auto rank = std::size_t(std::max(0.0, p / 100.0 * double(values.size()) - 1e-9));
    return values[std::min(rank, values.size() - 1)];
}

//! Runs the event loop until `done` or `timeoutMs`; false on timeout.
bool runUntil(const std::function<bool()>& done, int timeoutMs)
{
    QElapsedTimer clock;
    clock.start();
    while (!done()) {
        if (clock.elapsed() > timeoutMs) {
            return false;
        }
        QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 50);
    }
    return true;
}

Result measure(const QUrl& url, TransportKind kind, int count, int rate, int warmup)
{
    Result result;
    result.kind = kind;
    const QString room = QStringLiteral("latency-%1").arg(transportKindName(kind));
    const auto options = [&](const QString& user) {
        auto o = ClientOptions::forServer(url, user);
        o.transport = kind;
        o.maxOutboxMessages = std::max(1000, count + warmup);
        return o;
    };
    Client sender(options(QStringLiteral("lat-sender")));
    Client receiver(options(QStringLiteral("lat-receiver")));
    int joined = 0;
    for (Client* c : { &sender, &receiver }) {
        QObject::connect(
            c, &Client::joined, c, [&](const QString&, quint64, const QStringList&) { ++joined; });
        QObject::connect(c, &Client::errorOccurred, c, [&, c](const Error& e) {
            std::fprintf(stderr, "%s %s: %s\n", qPrintable(transportKindName(kind)),
                c == &sender ? "sender" : "receiver", qPrintable(e.message));
        });
        c->join(room);
        c->connectToServer();
    }
    if (!runUntil([&] { return joined == 2; }, 20000)) {
        result.error = QStringLiteral("the clients did not join within 20 s");
        return result;
    }

    QElapsedTimer clock;
    clock.start();
    std::vector<qint64> sentAtNs(std::size_t(count + warmup), -1);
    int expectedNext = 0;
    QHash<int, bool> seen;
    QObject::connect(&receiver, &Client::messageReceived, &receiver, [&](const Message& m) {
        const qint64 now = clock.nsecsElapsed();
        bool ok = false;
        const int n = m.body.section(QLatin1Char(' '), 0, 0).toInt(&ok);
        if (!ok || n < 0 || n >= int(sentAtNs.size())) {
            return;
        }
        if (seen.contains(n)) {
            ++result.duplicates;
            return;
        }
        seen.insert(n, true);
        if (n != expectedNext) {
            ++result.outOfOrder;
        }
        expectedNext = n + 1;
        ++result.received;
        if (n >= warmup) {
            result.latenciesMs.push_back(double(now - sentAtNs[std::size_t(n)]) / 1e6);
        }
    });

    // Steady rate: message k is due at k / rate seconds; a tick sends every message that is due.
    const int total = count + warmup;
    int next = 0;
    QTimer ticker;
    ticker.setTimerType(Qt::PreciseTimer);
    ticker.setInterval(std::max(1, 1000 / std::max(1, rate) / 2));
    const QString padding(64, QLatin1Char('x'));
    QObject::connect(&ticker, &QTimer::timeout, &ticker, [&] {
        const qint64 now = clock.nsecsElapsed();
        while (next < total && qint64(next) * 1000000000LL / rate <= now) {
            sentAtNs[std::size_t(next)] = clock.nsecsElapsed();
            sender.send(room, QStringLiteral("%1 %2").arg(next).arg(padding));
            ++next;
        }
        if (next == total) {
            ticker.stop();
        }
    });
    ticker.start();
    const int budgetMs = 20000 + total * 1000 / std::max(1, rate) * 2;
    if (!runUntil([&] { return result.received + result.duplicates >= total && next == total; },
            budgetMs)) {
        result.error = QStringLiteral("%1 of %2 messages arrived within %3 ms")
                           .arg(result.received)
                           .arg(total)
                           .arg(budgetMs);
    }
    // A last look for late duplicates: one more round of events.
    runUntil([] { return false; }, 100);
    return result;
}

} // namespace

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Sender -> receiver latency per transport (ws, sse, poll), side by side."));
    parser.addHelpOption();
    const QCommandLineOption countOption(QStringLiteral("count"),
        QStringLiteral("Messages measured per transport (default 1000)."), QStringLiteral("N"),
        QStringLiteral("1000"));
    const QCommandLineOption rateOption(QStringLiteral("rate"),
        QStringLiteral("Messages per second, steady (default 100)."), QStringLiteral("N"),
        QStringLiteral("100"));
    const QCommandLineOption warmupOption(QStringLiteral("warmup"),
        QStringLiteral("Messages sent first and not counted (default 20)."), QStringLiteral("N"),
        QStringLiteral("20"));
    const QCommandLineOption transportsOption(QStringLiteral("transports"),
        QStringLiteral("Comma-separated: ws,sse,poll (default all three)."), QStringLiteral("LIST"),
        QStringLiteral("ws,sse,poll"));
    const QCommandLineOption urlOption(QStringLiteral("url"),
        QStringLiteral("An existing server (ws://host:port/v1/ws); default: a fresh parleyd."),
        QStringLiteral("URL"));
    parser.addOptions({ countOption, rateOption, warmupOption, transportsOption, urlOption });
    parser.process(app);

    const int count = parser.value(countOption).toInt();
    const int rate = parser.value(rateOption).toInt();
    const int warmup = std::max(0, parser.value(warmupOption).toInt());
    if (count < 1 || rate < 1) {
        std::fprintf(stderr, "--count and --rate must be positive\n");
        return 2;
    }
    std::vector<TransportKind> kinds;
    for (const QString& name : parser.value(transportsOption).split(QLatin1Char(','))) {
        if (name == QLatin1String("ws")) {
            kinds.push_back(TransportKind::WebSocket);
        } else if (name == QLatin1String("sse")) {
            kinds.push_back(TransportKind::Sse);
        } else if (name == QLatin1String("poll")) {
            kinds.push_back(TransportKind::LongPoll);
        } else {
            std::fprintf(stderr, "unknown transport '%s' (ws, sse, poll)\n", qPrintable(name));
            return 2;
        }
    }

    std::unique_ptr<parley::test::ServerProcess> server;
    QUrl url(parser.value(urlOption));
    if (url.isEmpty()) {
        server = std::make_unique<parley::test::ServerProcess>();
        if (!server->start()) {
            std::fprintf(stderr, "parleyd did not start:\n%s\n", qPrintable(server->output()));
            return 2;
        }
        url = server->webSocketUrl();
    }
    std::fprintf(stderr, "server %s, %d messages per transport at %d/s (+%d warm-up)\n",
        qPrintable(url.toString()), count, rate, warmup);

    std::vector<Result> results;
    for (TransportKind kind : kinds) {
        results.push_back(measure(url, kind, count, rate, warmup));
    }

    std::printf("%-10s %8s %9s %9s %9s %9s %6s %6s\n", "transport", "received", "p50 ms", "p90 ms",
        "p99 ms", "max ms", "dup", "order");
    bool ok = true;
    for (const Result& r : results) {
        const auto& l = r.latenciesMs;
        std::printf("%-10s %8d %9.2f %9.2f %9.2f %9.2f %6d %6d\n",
            qPrintable(transportKindName(r.kind)), r.received, percentile(l, 50), percentile(l, 90),
            percentile(l, 99), l.empty() ? 0.0 : *std::max_element(l.begin(), l.end()),
            r.duplicates, r.outOfOrder);
        if (!r.error.isEmpty()) {
            std::fprintf(
                stderr, "%s: %s\n", qPrintable(transportKindName(r.kind)), qPrintable(r.error));
        }
        ok = ok && r.error.isEmpty() && r.duplicates == 0 && r.outOfOrder == 0
            && r.received == count + warmup;
    }
    return ok ? 0 : 1;
}
