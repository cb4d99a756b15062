#include "localbroker.h"

namespace parley::server {

LocalBroker::LocalBroker(StorageWorker* storage)
    : m_storage(storage)
{
}

void LocalBroker::setDeliveredHandler(DeliveredHandler handler)
{
    m_storage->setCommittedHandler(std::move(handler));
}

bool LocalBroker::tryReserve()
{
    return m_storage->tryReserve();
}

void LocalBroker::append(AppendRequest request, AppendDone done)
{
    m_storage->append(std::move(request), std::move(done));
}

void LocalBroker::openRoom(std::string room, RoomDone done)
{
    m_storage->ensureRoom(std::move(room), std::move(done));
}

void LocalBroker::closeRoom(std::string)
{
    // Every committed message reaches the hub anyway: nothing to stop.
}

void LocalBroker::read(HistoryQuery query, HistoryDone done)
{
    m_storage->read(std::move(query), std::move(done));
}

} // namespace parley::server
