// Helpers for the EpollEventDispatcher tests.
//
// Why a worker thread: the shared test main (tests/support/testmain.cpp) constructs the
// QCoreApplication before any test runs, so the main thread already has Qt's dispatcher. Each
// test body therefore runs on a fresh QThread that gets `setEventDispatcher(new
// EpollEventDispatcher)` before start() - exactly how parleyd installs it on its I/O threads -
// and everything the body creates (notifiers, timers, sockets, nested event loops,
// QSignalSpy::wait) runs on the epoll dispatcher. runOnEpollThread() checks that it does.
#pragma once

#include "waituntil.h"

#include "epolleventdispatcher.h"

#include <QAbstractEventDispatcher>
#include <QCoreApplication>
#include <QDeadlineTimer>
#include <QThread>
#include <QTimer>
#include <functional>
#include <gtest/gtest.h>
#include <memory>
#include <sys/socket.h>
#include <unistd.h>

namespace parley::server::test {

//! Runs body on a new thread whose event dispatcher is an EpollEventDispatcher and returns when
//! it is done. GoogleTest records failures from any thread; a fatal one ends body early.
inline void runOnEpollThread(const std::function<void()>& body)
{
    std::unique_ptr<QThread> thread(QThread::create([&body] {
        auto* dispatcher
            = qobject_cast<EpollEventDispatcher*>(QAbstractEventDispatcher::instance());
        ASSERT_NE(dispatcher, nullptr) << "the test thread does not run on EpollEventDispatcher";
        body();
    }));
    auto* dispatcher = new EpollEventDispatcher;
    ASSERT_TRUE(dispatcher->isValid());
    thread->setEventDispatcher(dispatcher);
    thread->start();
    thread->wait();
}

//! The current thread's dispatcher.
inline QAbstractEventDispatcher* dispatcher()
{
    return QAbstractEventDispatcher::instance();
}

using parley::test::waitUntil;

//! A connected, non-blocking AF_UNIX stream socket pair, closed on destruction.
class SocketPair {
public:
    SocketPair()
    {
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, m_fds) != 0) {
            m_fds[0] = m_fds[1] = -1;
        }
    }
    ~SocketPair()
    {
        closeEnd(0);
        closeEnd(1);
    }
    SocketPair(const SocketPair&) = delete;
    SocketPair& operator=(const SocketPair&) = delete;

    bool isValid() const { return m_fds[0] >= 0; }
    int first() const { return m_fds[0]; }
    int second() const { return m_fds[1]; }

    //! Writes one byte into `second`, making `first` readable.
    bool poke() const { return ::write(m_fds[1], "x", 1) == 1; }
    //! Reads everything pending on `first`; returns the number of bytes.
    int drain() const
    {
        char buf[256];
        int total = 0;
        ssize_t n = 0;
        while ((n = ::read(m_fds[0], buf, sizeof buf)) > 0) {
            total += int(n);
        }
        return total;
    }
    void closeEnd(int end)
    {
        if (m_fds[end] >= 0) {
            ::close(m_fds[end]);
            m_fds[end] = -1;
        }
    }

private:
    int m_fds[2] = { -1, -1 };
};

} // namespace parley::server::test
