#include "eventdispatcherfactory.h"

#include <QByteArray>
#include <QtGlobal>

#ifdef Q_OS_LINUX
#include "epolleventdispatcher.h"
#endif

namespace parley::server {

namespace {

bool epollRequested()
{
    const QByteArray choice = qgetenv("PARLEY_EVENT_DISPATCHER").trimmed().toLower();
    if (choice == "qt") {
        return false;
    }
    if (!choice.isEmpty() && choice != "epoll") {
        qWarning(
            "PARLEY_EVENT_DISPATCHER=%s is not one of epoll, qt; using epoll", choice.constData());
    }
    return true;
}

} // namespace

std::unique_ptr<QAbstractEventDispatcher> createEventDispatcher()
{
#ifdef Q_OS_LINUX
    if (!epollRequested()) {
        return nullptr;
    }
    auto dispatcher = std::make_unique<EpollEventDispatcher>();
    if (!dispatcher->isValid()) {
        qWarning("EpollEventDispatcher unavailable; falling back to Qt's event dispatcher");
        return nullptr;
    }
    return dispatcher;
#else
    return nullptr;
#endif
}

const char* eventDispatcherName(const QAbstractEventDispatcher* dispatcher)
{
#ifdef Q_OS_LINUX
    if (qobject_cast<const EpollEventDispatcher*>(dispatcher)) {
        return "epoll";
    }
#else
    Q_UNUSED(dispatcher);
#endif
    return "qt";
}

} // namespace parley::server
