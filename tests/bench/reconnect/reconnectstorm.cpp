// parley-reconnect-storm: the reconnect herd after a server crash (issue 4's benchmark).
//
// Coordinator (default): starts parleyd (ServerProcess, temporary data dir), spawns --procs
// worker processes of this program that share --clients SDK clients, waits until every client
// has joined its room, SIGKILLs parleyd, restarts it on the same data dir and port, and waits
// until every client has rejoined (welcome, join, resume replay: the SDK's `joined` after the
// reconnect). It prints the time to all-back and a histogram of the per-client rejoin times,
// which shows how full-jitter backoff spreads the herd instead of a thundering spike.
//
// Worker (--worker): runs its clients on one event loop and reports on stdout:
//   "ready" once all joined; "back <epoch-ms>" per client rejoin after a loss; "done".
#include "serverprocess.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDateTime>
#include <QElapsedTimer>
#include <QProcess>
#include <QTextStream>
#include <QTimer>
#include <algorithm>
#include <cstdio>
#include <memory>
#include <parley/client.h>
#include <string>
#include <vector>

using namespace parley;

namespace {

int runWorker(const QUrl& url, int clients, int index, int roomSize)
{
    std::vector<std::unique_ptr<Client>> all;
    int joinedOnce = 0;
    int back = 0;
    QTextStream out(stdout);
    for (int i = 0; i < clients; ++i) {
        auto options = ClientOptions::forServer(url, QStringLiteral("u%1-%2").arg(index).arg(i));
        options.requestTimeout = std::chrono::milliseconds(30000);
        auto client = std::make_unique<Client>(options);
        Client* c = client.get();
        auto lost = std::make_shared<bool>(false);
        QObject::connect(c, &Client::stateChanged, c, [lost](ConnectionState s) {
            if (s == ConnectionState::Reconnecting) {
                *lost = true;
            }
        });
        QObject::connect(
            c, &Client::joined, c, [&, lost, clients](const QString&, quint64, const QStringList&) {
                if (!*lost) {
                    if (++joinedOnce == clients) {
                        out << "ready" << Qt::endl;
                    }
                    return;
                }
                *lost = false;
                out << "back " << QDateTime::currentMSecsSinceEpoch() << Qt::endl;
                if (++back == clients) {
                    out << "done" << Qt::endl;
                }
            });
        c->join(QStringLiteral("storm-%1-%2").arg(index).arg(i / std::max(1, roomSize)));
        // Spread the initial connects a little so the set-up itself is not the storm measured.
        QTimer::singleShot(i / 4, c, [c] { c->connectToServer(); });
        all.push_back(std::move(client));
    }
    return QCoreApplication::exec();
}

struct WorkerProcess {
    std::unique_ptr<QProcess> process;
    QByteArray buffer;
    bool ready = false;
    bool done = false;
};

} // namespace

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Reconnect storm benchmark"));
    parser.addHelpOption();
    const QCommandLineOption clientsOption(QStringLiteral("clients"),
        QStringLiteral("Total clients (default 2000)."), QStringLiteral("N"),
        QStringLiteral("2000"));
    const QCommandLineOption procsOption(QStringLiteral("procs"),
        QStringLiteral("Worker processes (default 4)."), QStringLiteral("P"), QStringLiteral("4"));
    const QCommandLineOption roomSizeOption(QStringLiteral("room-size"),
        QStringLiteral("Clients per room (default 10)."), QStringLiteral("K"),
        QStringLiteral("10"));
    const QCommandLineOption bucketOption(QStringLiteral("bucket-ms"),
        QStringLiteral("Histogram bucket (default 100)."), QStringLiteral("MS"),
        QStringLiteral("100"));
    const QCommandLineOption workerOption(
        QStringLiteral("worker"), QStringLiteral("Internal: run as a worker."));
    const QCommandLineOption urlOption(
        QStringLiteral("url"), QStringLiteral("Internal: server URL."), QStringLiteral("URL"));
    const QCommandLineOption indexOption(QStringLiteral("index"),
        QStringLiteral("Internal: worker index."), QStringLiteral("I"), QStringLiteral("0"));
    parser.addOptions({ clientsOption, procsOption, roomSizeOption, bucketOption, workerOption,
        urlOption, indexOption });
    parser.process(app);

    const int clients = parser.value(clientsOption).toInt();
    const int procs = std::max(1, parser.value(procsOption).toInt());
    const int roomSize = std::max(1, parser.value(roomSizeOption).toInt());
    if (parser.isSet(workerOption)) {
        return runWorker(
            QUrl(parser.value(urlOption)), clients, parser.value(indexOption).toInt(), roomSize);
    }

    parley::test::ServerProcess server(
        { QStringLiteral("--heartbeat-ms"), QStringLiteral("30000") });
    if (!server.start()) {
        std::fprintf(stderr, "parleyd did not start:\n%s\n", qPrintable(server.output()));
        return 1;
    }
    std::vector<WorkerProcess> workers(static_cast<std::size_t>(procs));
    std::vector<qint64> backTimes;
    const auto pump = [&](WorkerProcess& w) {
        w.buffer += w.process->readAllStandardOutput();
        int nl;
        while ((nl = w.buffer.indexOf('\n')) >= 0) {
            const QByteArray line = w.buffer.left(nl).trimmed();
            w.buffer.remove(0, nl + 1);
            if (line == "ready") {
                w.ready = true;
            } else if (line == "done") {
                w.done = true;
            } else if (line.startsWith("back ")) {
                backTimes.push_back(line.mid(5).toLongLong());
            }
        }
    };
    for (int p = 0; p < procs; ++p) {
        const int share = clients / procs + (p < clients % procs ? 1 : 0);
        auto& w = workers[std::size_t(p)];
        w.process = std::make_unique<QProcess>();
        w.process->setProcessChannelMode(QProcess::ForwardedErrorChannel);
        QObject::connect(w.process.get(), &QProcess::readyReadStandardOutput,
            [&, p] { pump(workers[std::size_t(p)]); });
        w.process->start(QCoreApplication::applicationFilePath(),
            { QStringLiteral("--worker"), QStringLiteral("--url"), server.webSocketUrl().toString(),
                QStringLiteral("--clients"), QString::number(share), QStringLiteral("--index"),
                QString::number(p), QStringLiteral("--room-size"), QString::number(roomSize) });
    }
    const auto waitAll = [&](auto predicate, int timeoutMs) {
        QElapsedTimer t;
        t.start();
        while (!std::all_of(workers.begin(), workers.end(), predicate)) {
            if (t.elapsed() > timeoutMs) {
                return false;
            }
            QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 100);
        }
        return true;
    };
    QElapsedTimer setup;
    setup.start();
    if (!waitAll([](const WorkerProcess& w) { return w.ready; }, 600000)) {
        std::fprintf(stderr, "clients did not all join\n");
        return 1;
    }
    std::printf("%d clients in %d processes joined in %lld ms\n", clients, procs, setup.elapsed());

    const qint64 killedAt = QDateTime::currentMSecsSinceEpoch();
    server.kill();
    if (!server.restart(60000)) {
        std::fprintf(stderr, "parleyd did not restart:\n%s\n", qPrintable(server.output()));
        return 1;
    }
    const qint64 upAt = QDateTime::currentMSecsSinceEpoch();
    if (!waitAll([](const WorkerProcess& w) { return w.done; }, 600000)) {
        std::fprintf(stderr, "only %zu of %d clients came back\n", backTimes.size(), clients);
        return 1;
    }
    std::sort(backTimes.begin(), backTimes.end());
    const auto pct = [&](double p) {
        return backTimes[std::min(backTimes.size() - 1, std::size_t(p * double(backTimes.size())))]
            - upAt;
    };
    std::printf("server down (kill to listening again): %lld ms\n", upAt - killedAt);
    std::printf("all %zu clients rejoined %lld ms after the kill, %lld ms after the restart\n",
        backTimes.size(), backTimes.back() - killedAt, backTimes.back() - upAt);
    std::printf("rejoin after restart: p10 %lld  p50 %lld  p90 %lld  p99 %lld  max %lld ms\n",
        pct(0.10), pct(0.50), pct(0.90), pct(0.99), backTimes.back() - upAt);
    const qint64 bucket = std::max(1, parser.value(bucketOption).toInt());
    std::vector<int> histogram;
    for (qint64 t : backTimes) {
        const auto b = std::size_t(std::max<qint64>(0, t - upAt) / bucket);
        if (histogram.size() <= b) {
            histogram.resize(b + 1);
        }
        ++histogram[b];
    }
    const int peak = *std::max_element(histogram.begin(), histogram.end());
    std::printf("rejoins per %lld ms after the restart (peak %d):\n", bucket, peak);
    for (std::size_t b = 0; b < histogram.size(); ++b) {
        std::printf("%6lld-%-6lld %5d %s\n", qint64(b) * bucket, qint64(b + 1) * bucket,
            histogram[b], std::string(std::size_t(60.0 * histogram[b] / peak), '#').c_str());
    }
    for (auto& w : workers) {
        w.process->kill();
        w.process->waitForFinished(5000);
    }
    server.stop();
    return 0;
}
