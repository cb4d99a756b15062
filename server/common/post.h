// Cross-thread hand-off helpers.
//
// Every long-lived object in parleyd lives on exactly one thread (an I/O thread, the hub thread,
// the storage thread). Other threads never call into it directly: they post a functor into its
// event queue. Posted functors run in FIFO order per (sender thread, receiver) pair, which is what
// the ordering guarantees of the hub and the storage rely on.
#pragma once

#include <QMetaObject>
#include <QObject>
#include <utility>

namespace parley::server {

//! Runs `f` on `context`'s thread, later, in its event loop. Thread-safe as long as `context`
//! outlives the call (all contexts used here live for the whole server lifetime). If the context
//! is deleted before the event is delivered, the functor is dropped.
template <typename F> void post(QObject* context, F&& f)
{
    QMetaObject::invokeMethod(context, std::forward<F>(f), Qt::QueuedConnection);
}

} // namespace parley::server
