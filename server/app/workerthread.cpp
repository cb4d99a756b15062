#include "workerthread.h"

namespace parley::server {

WorkerThread::WorkerThread(const QString& name)
{
    setObjectName(name);
}

WorkerThread::~WorkerThread()
{
    finish({});
}

void WorkerThread::run()
{
    exec();
    std::function<void()> destroy;
    {
        std::unique_lock lock(m_mutex);
        m_loopEnded = true;
        m_changed.notify_all();
        m_changed.wait(lock, [this] { return m_finishing; });
        destroy = std::move(m_destroy);
    }
    if (destroy) {
        destroy();
    }
}

void WorkerThread::stopLoop()
{
    if (!isRunning()) {
        return;
    }
    // exec() returns at once if quit() comes before it started (QThread keeps the request).
    quit();
    std::unique_lock lock(m_mutex);
    m_changed.wait(lock, [this] { return m_loopEnded; });
}

void WorkerThread::finish(const std::function<void()>& destroy)
{
    if (!isRunning()) {
        if (destroy) {
            destroy();
        }
        return;
    }
    stopLoop();
    {
        std::lock_guard lock(m_mutex);
        m_destroy = destroy;
        m_finishing = true;
    }
    m_changed.notify_all();
    wait();
}

} // namespace parley::server
