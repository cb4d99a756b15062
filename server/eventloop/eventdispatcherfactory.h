// Chooses the event dispatcher for parleyd's threads: epoll on Linux, Qt's own elsewhere or when
// PARLEY_EVENT_DISPATCHER=qt asks for it (to compare the two on the same build).
#pragma once

#include <QAbstractEventDispatcher>
#include <memory>

namespace parley::server {

//! Returns a new EpollEventDispatcher, or nullptr when Qt's default dispatcher should be kept:
//! on platforms without epoll, when the environment variable PARLEY_EVENT_DISPATCHER is "qt",
//! or when the epoll dispatcher cannot be set up (it then logs why).
//! PARLEY_EVENT_DISPATCHER unset, empty or "epoll" selects epoll; other values log a warning
//! and select epoll.
//!
//! Install the result before the thread runs an event loop; the setters take ownership:
//! \code
//!   // main thread, before the QCoreApplication is constructed:
//!   if (auto dispatcher = parley::server::createEventDispatcher()) {
//!       QCoreApplication::setEventDispatcher(dispatcher.release());
//!   }
//!   QCoreApplication app(argc, argv);
//!
//!   // worker (I/O) thread, before start():
//!   auto* thread = new QThread;
//!   if (auto dispatcher = parley::server::createEventDispatcher()) {
//!       thread->setEventDispatcher(dispatcher.release());
//!   }
//!   thread->start();
//! \endcode
std::unique_ptr<QAbstractEventDispatcher> createEventDispatcher();

//! "epoll" or "qt": which kind `dispatcher` (e.g. QThread::eventDispatcher() of a running thread)
//! really is, for logs — what runs, not what was asked for (epoll can fail to initialise).
const char* eventDispatcherName(const QAbstractEventDispatcher* dispatcher);

} // namespace parley::server
