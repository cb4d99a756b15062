// parley_eventloop_bench: wake-up latency of an event dispatcher with many idle sockets.
//
// The main thread runs a Qt event loop on the chosen dispatcher with N idle descriptors, each
// watched by a read QSocketNotifier (both ends of N/2 socketpairs: 15,000 idle descriptors fit
// the 20,000 open-files limit, 15,000 socketpairs would not), plus one "ping" socketpair whose
// notifier echoes every byte back. A plain thread (no event loop) sends one byte, waits for the
// echo with a blocking read and records the round trip; between samples it pauses so that the
// loop is asleep in its wait when the byte arrives. The round trip is then: wake the sleeping
// loop, find the ready socket, run the notifier, write back, go back to sleep.
//
// Usage: parley_eventloop_bench [--dispatcher epoll|glib|unix] [--idle N] [--samples N]
//                               [--gap-us N]
//   epoll: parley::server::EpollEventDispatcher; glib: Qt's default on Debian;
//   unix: Qt's QEventDispatcherUNIX (QT_NO_GLIB=1).
// Prints one line: dispatcher, idle descriptors, samples, median/p90/p99/max round trip in µs.
#include "epolleventdispatcher.h"

#include <QAbstractEventDispatcher>
#include <QCoreApplication>
#include <QSocketNotifier>
#include <QTimer>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

struct Options {
    std::string dispatcher = "epoll";
    int idle = 1000;
    int samples = 5000;
    int gapUs = 200;
};

bool parse(int argc, char** argv, Options& options)
{
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const bool hasValue = i + 1 < argc;
        if (arg == "--dispatcher" && hasValue) {
            options.dispatcher = argv[++i];
        } else if (arg == "--idle" && hasValue) {
            options.idle = std::atoi(argv[++i]);
        } else if (arg == "--samples" && hasValue) {
            options.samples = std::atoi(argv[++i]);
        } else if (arg == "--gap-us" && hasValue) {
            options.gapUs = std::atoi(argv[++i]);
        } else {
            return false;
        }
    }
    return (options.dispatcher == "epoll" || options.dispatcher == "glib"
               || options.dispatcher == "unix")
        && options.idle >= 0 && options.samples > 0 && options.gapUs >= 0;
}

double percentile(const std::vector<double>& sorted, double p)
{
    const std::size_t index = std::min(sorted.size() - 1, std::size_t(p * double(sorted.size())));
    return sorted[index];
}

} // namespace

int main(int argc, char** argv)
{
    Options options;
    if (!parse(argc, argv, options)) {
        std::fprintf(stderr,
            "usage: %s [--dispatcher epoll|glib|unix] [--idle N] [--samples N] "
            "[--gap-us N]\n",
            argv[0]);
        return 2;
    }

    if (options.dispatcher == "epoll") {
        QCoreApplication::setEventDispatcher(new parley::server::EpollEventDispatcher);
    } else if (options.dispatcher == "unix") {
        qputenv("QT_NO_GLIB", "1");
    } else {
        qunsetenv("QT_NO_GLIB");
    }
    QCoreApplication app(argc, argv);

    std::vector<int> idleFds;
    std::vector<std::unique_ptr<QSocketNotifier>> idleNotifiers;
    for (int i = 0; i < options.idle; i += 2) {
        int fds[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) {
            std::fprintf(stderr, "socketpair failed after %zu descriptors: %s\n", idleFds.size(),
                std::strerror(errno));
            return 1;
        }
        for (const int fd : fds) {
            if (int(idleFds.size()) < options.idle) {
                idleFds.push_back(fd);
                idleNotifiers.push_back(
                    std::make_unique<QSocketNotifier>(fd, QSocketNotifier::Read));
            } else {
                ::close(fd);
            }
        }
    }

    int ping[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ping) != 0) {
        std::perror("socketpair");
        return 1;
    }
    ::fcntl(ping[0], F_SETFL, ::fcntl(ping[0], F_GETFL) | O_NONBLOCK);
    QSocketNotifier echo(ping[0], QSocketNotifier::Read);
    QObject::connect(&echo, &QSocketNotifier::activated, [&] {
        char buf[64];
        const ssize_t n = ::read(ping[0], buf, sizeof buf);
        if (n > 0) {
            [[maybe_unused]] const ssize_t w = ::write(ping[0], buf, std::size_t(n));
        }
    });

    std::vector<double> rttUs;
    rttUs.reserve(std::size_t(options.samples));
    std::thread pinger;
    // Start pinging once the loop runs, so that setup costs stay out of the figures.
    QTimer::singleShot(0, [&] {
        pinger = std::thread([&] {
            using Clock = std::chrono::steady_clock;
            const int warmup = std::min(200, options.samples / 10);
            for (int i = 0; i < warmup + options.samples; ++i) {
                // A benchmark thread with no event loop: pausing lets the loop fall asleep.
                std::this_thread::sleep_for(std::chrono::microseconds(options.gapUs));
                const auto start = Clock::now();
                char c = 'p';
                if (::write(ping[1], &c, 1) != 1 || ::read(ping[1], &c, 1) != 1) {
                    break;
                }
                if (i >= warmup) {
                    rttUs.push_back(
                        std::chrono::duration<double, std::micro>(Clock::now() - start).count());
                }
            }
            QMetaObject::invokeMethod(&app, &QCoreApplication::quit, Qt::QueuedConnection);
        });
    });
    app.exec();
    pinger.join();

    if (rttUs.empty()) {
        std::fprintf(stderr, "no samples\n");
        return 1;
    }
    std::sort(rttUs.begin(), rttUs.end());
    const char* className = QAbstractEventDispatcher::instance()->metaObject()->className();
    std::printf("dispatcher=%s (%s) idle=%zu samples=%zu rtt_us median=%.1f p90=%.1f p99=%.1f "
                "max=%.1f\n",
        options.dispatcher.c_str(), className, idleFds.size(), rttUs.size(), percentile(rttUs, 0.5),
        percentile(rttUs, 0.9), percentile(rttUs, 0.99), rttUs.back());

    idleNotifiers.clear();
    for (const int fd : idleFds) {
        ::close(fd);
    }
    ::close(ping[0]);
    ::close(ping[1]);
    return 0;
}
