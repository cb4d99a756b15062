// A real parleyd in a child process, for integration and end-to-end tests.
//
// start() launches build/server/parleyd on 127.0.0.1 with an OS-chosen port ("--listen
// 127.0.0.1:0") and a temporary data directory, and waits (on the process's output, with a
// timeout, no sleeps) for the line "parleyd listening on HOST:PORT" that parleyd prints once it
// accepts connections. The data directory outlives kill()/stop() so a test can restart the server
// on the same data (restart()).
#pragma once

#include <QProcess>
#include <QStringList>
#include <QTemporaryDir>
#include <QUrl>
#include <memory>

namespace parley::test {

class ServerProcess {
public:
    //! extraArgs are appended to parleyd's command line (e.g. {"--max-frame-bytes", "1024"}).
    explicit ServerProcess(QStringList extraArgs = {});
    ~ServerProcess();

    //! Starts parleyd; returns false (and records the output) if it did not come up in time.
    bool start(int timeoutMs = 10000);
    //! SIGTERM and wait for a clean exit; returns the exit code (-1 if it had to be killed).
    int stop(int timeoutMs = 10000);
    //! SIGKILL, no chance to flush anything.
    void kill();
    //! SIGSTOP, returning once every thread of the server has stopped (the kernel reports the
    //! stop to us, its parent), so the test knows the frozen server will not answer anything.
    bool freeze();
    //! SIGCONT after freeze().
    void thaw();
    //! start() again on the same data directory (and the same port when it is free).
    bool restart(int timeoutMs = 10000);

    bool isRunning() const;
    //! The server's process id while it runs, 0 otherwise (for /proc sampling in benchmarks).
    qint64 pid() const;
    quint16 port() const { return m_port; }
    QString dataDir() const { return m_dataDir.path(); }
    //! ws://127.0.0.1:PORT/v1/ws
    QUrl webSocketUrl() const;
    //! http://127.0.0.1:PORT
    QUrl httpUrl() const;
    //! Everything parleyd printed so far (stdout and stderr merged), for failure messages.
    QString output() const { return m_output; }

    static QString executable();

private:
    bool launch(quint16 port, int timeoutMs);

    QStringList m_extraArgs;
    QTemporaryDir m_dataDir;
    std::unique_ptr<QProcess> m_process;
    quint16 m_port = 0;
    QString m_output;
};

} // namespace parley::test
