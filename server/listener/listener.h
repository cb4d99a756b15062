// Listener: the one listening socket, on the main (accept) thread.
//
// It accepts but never reads: each accepted descriptor goes straight to an I/O thread, which
// makes the QTcpSocket on its own thread. Threads are chosen round-robin. Why round-robin and not
// "fewest sessions": connections are long-lived and alike (chat sessions), so round-robin spreads
// them evenly without reading other threads' state on the accept path; a thread that ends up with
// more idle sockets costs little because wake-ups do not scale with idle sockets (epoll).
// Why one accepting thread and not SO_REUSEPORT per thread: the kernel's reuseport hashing
// cannot move a connection off a busy thread either, and one listener keeps the port, the backlog
// and "stop accepting" in one place.
//
// The listen backlog is raised to kListenBacklog (Qt's default of 50 drops connection bursts,
// e.g. thousands of clients reconnecting after a node restart); the kernel caps it at
// net.core.somaxconn.
#pragma once

#include <QTcpServer>
#include <vector>

namespace parley::server {

class IoThread;

class Listener : public QTcpServer {
public:
    static constexpr int kListenBacklog = 1024;

    explicit Listener(std::vector<IoThread*> threads, QObject* parent = nullptr);

    //! Starts listening; false with errorString() on failure.
    bool start(const QHostAddress& address, quint16 port);

protected:
    void incomingConnection(qintptr descriptor) override;

private:
    std::vector<IoThread*> m_threads;
    std::size_t m_next = 0;
};

} // namespace parley::server
