// A real, throw-away redis-server in a child process, for tests of the Redis client and of the
// cluster.
//
// start() picks a free loopback port (redis-server has no "--port 0": a QTcpServer is bound to
// port 0 to learn a free port, closed, and the launch is retried on a fresh port if redis-server
// then fails to bind it), runs redis-server in a temporary directory (no RDB snapshots; extra
// arguments may turn AOF on, etc.), and waits (on its output and then on a PING answered with
// +PONG, with a timeout, no sleeps) until it serves commands. kill()/stop() keep the directory and
// the port so that restart() brings the same server back for outage tests.
#pragma once

#include <QProcess>
#include <QStringList>
#include <QTemporaryDir>
#include <memory>

namespace parley::test {

class RedisServer {
public:
    //! extraArgs are appended to redis-server's command line (e.g. {"--appendonly", "yes"}).
    explicit RedisServer(QStringList extraArgs = {});
    ~RedisServer();
    RedisServer(const RedisServer&) = delete;
    RedisServer& operator=(const RedisServer&) = delete;

    //! Starts redis-server; returns false (and records its output) if it did not come up in time.
    bool start(int timeoutMs = 10000);
    //! SIGTERM (redis-server shuts down cleanly) and wait; returns false if it had to be killed.
    bool stop(int timeoutMs = 10000);
    //! SIGKILL: no chance to save or answer anything; connected clients see the link drop.
    void kill();
    //! start() again on the same port and directory (after kill() or stop()).
    bool restart(int timeoutMs = 10000);

    bool isRunning() const;
    quint16 port() const { return m_port; }
    //! redis://127.0.0.1:PORT
    QString url() const;
    QString dataDir() const { return m_dataDir.path(); }
    //! Everything redis-server printed so far, for failure messages.
    QString output() const { return m_output; }

    //! redis-server from PATH (or $PARLEY_REDIS_SERVER).
    static QString executable();

private:
    bool launch(quint16 port, int timeoutMs);
    bool answersPing(quint16 port, int timeoutMs);
    void collectOutput();

    QStringList m_extraArgs;
    QTemporaryDir m_dataDir;
    std::unique_ptr<QProcess> m_process;
    quint16 m_port = 0;
    QString m_output;
};

} // namespace parley::test
