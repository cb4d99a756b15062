// WorkerThread: a QThread whose objects are destroyed on it, once the server has stopped every
// thread's event loop.
//
// An object living on a thread must be destroyed on that thread: Qt stops a QTimer or a
// QSocketNotifier only from the thread it belongs to, and warns otherwise ("QObject::killTimer:
// Timers cannot be stopped from another thread", the timer left registered). But the server
// cannot delete each thread's objects at the moment it stops that thread: the threads hold
// pointers to each other's objects (the broker calls the hub, the hub the I/O threads, sessions
// the presence manager), so shutdown first stops the event loops one by one in dependency order,
// and destroys the objects only when no thread processes events any more. A WorkerThread splits
// the end of a QThread into those two steps: stopLoop() ends the event loop and returns once it
// has (from then on nothing runs on the thread), and finish() runs the destruction on the thread,
// then joins it. The thread's event dispatcher still exists during the destruction, so timers
// and notifiers unregister normally; deleteLater() calls made by destructors are honoured as the
// thread ends.
#pragma once

#include <QThread>
#include <condition_variable>
#include <functional>
#include <mutex>

namespace parley::server {

class WorkerThread final : public QThread {
public:
    explicit WorkerThread(const QString& name);
    //! Calls finish() with nothing to destroy if the thread still runs.
    ~WorkerThread() override;

    //! Controller thread. Ends the event loop and returns once it has ended: events posted to
    //! the thread's objects from now on are not processed. No-op if the thread is not running.
    void stopLoop();
    //! Controller thread. stopLoop(), then runs `destroy` on this thread (it deletes the objects
    //! living here), then waits for the thread to end. If the thread is not running (never
    //! started, or finished), `destroy` runs on the caller's thread: nothing of it is live.
    void finish(const std::function<void()>& destroy);

protected:
    void run() override;

private:
    std::mutex m_mutex;
    std::condition_variable m_changed;
    bool m_loopEnded = false;
    bool m_finishing = false;
    std::function<void()> m_destroy;
};

} // namespace parley::server
