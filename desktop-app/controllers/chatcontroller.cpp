#include "controllers/chatcontroller.h"

#include "models/memberlistmodel.h"
#include "models/messagemodel.h"
#include "models/roomlistmodel.h"

#include <QRegularExpression>
#include <parley/client.h>
#include <parley/historyquery.h>

namespace parley::desktop {

struct ChatController::RoomState {
    std::unique_ptr<MessageModel> messages;
    std::unique_ptr<MemberListModel> members;
    //! The history request in flight, if any (one at a time per room).
    QString historyRequest;
    //! Whether older history may exist beyond the oldest message shown.
    bool hasOlder = true;
    //! Whether the first page (the newest messages) was received.
    bool initialLoaded = false;
};

ChatController::ChatController(parley::Client& client, QObject* parent)
    : QObject(parent)
    , m_client(client)
    , m_roomList(std::make_unique<RoomListModel>())
{
    connect(&m_client, &Client::joined, this, &ChatController::onJoined);
    connect(&m_client, &Client::joinFailed, this, &ChatController::onJoinFailed);
    connect(&m_client, &Client::messageReceived, this, &ChatController::onMessageReceived);
    connect(&m_client, &Client::messageAcked, this, &ChatController::onMessageAcked);
    connect(&m_client, &Client::messageFailed, this, &ChatController::onMessageFailed);
    connect(&m_client, &Client::historyReceived, this, &ChatController::onHistoryReceived);
    connect(&m_client, &Client::historyFailed, this, &ChatController::onHistoryFailed);
    connect(&m_client, &Client::presenceChanged, this, &ChatController::onPresenceChanged);
    connect(&m_client, &Client::historyGap, this, &ChatController::onHistoryGap);
    connect(&m_client, &Client::streamReset, this, &ChatController::onStreamReset);
}

ChatController::~ChatController() = default;

QString ChatController::localUser() const
{
    return m_client.options().user;
}

bool ChatController::isValidRoomName(const QString& name)
{
    static const QRegularExpression valid(QStringLiteral("^[A-Za-z0-9._-]{1,64}$"));
    return valid.match(name).hasMatch();
}

ChatController::RoomState* ChatController::state(const QString& room) const
{
    const auto it = m_rooms.find(room);
    return it == m_rooms.end() ? nullptr : it->second.get();
}

MessageModel* ChatController::messages(const QString& room) const
{
    const RoomState* rs = state(room);
    return rs ? rs->messages.get() : nullptr;
}

MemberListModel* ChatController::members(const QString& room) const
{
    const RoomState* rs = state(room);
    return rs ? rs->members.get() : nullptr;
}

bool ChatController::openRoom(const QString& room)
{
    if (!isValidRoomName(room)) {
        Q_EMIT problemReported(
            tr("\"%1\" is not a room name: use up to 64 letters, digits, '.', '_' or '-'.")
                .arg(room));
        return false;
    }
    if (!state(room)) {
        auto rs = std::make_unique<RoomState>();
        rs->messages = std::make_unique<MessageModel>(room, localUser());
        rs->members = std::make_unique<MemberListModel>();
        m_rooms.emplace(room, std::move(rs));
        m_roomList->addRoom(room);
        m_client.join(room);
    } else if (m_roomList->joinState(room) == RoomListModel::JoinState::Failed) {
        // Opening a room whose join failed tries again.
        m_roomList->setJoinState(room, RoomListModel::JoinState::Joining);
        m_client.join(room);
    }
    setCurrentRoom(room);
    return true;
}

void ChatController::closeRoom(const QString& room)
{
    const auto it = m_rooms.find(room);
    if (it == m_rooms.end()) {
        return;
    }
    int row = m_roomList->rowOf(room);
    m_client.leave(room);
    if (m_currentRoom == room) {
        const int count = m_roomList->rowCount();
        const int next = row + 1 < count ? row + 1 : row - 1;
        setCurrentRoom(m_roomList->roomAt(next));
    }
    m_roomList->removeRoom(room);
    // The models may still be shown for a moment by a view: delete them on the next turn.
    it->second->messages.release()->deleteLater();
    it->second->members.release()->deleteLater();
    m_rooms.erase(it);
}

void ChatController::setCurrentRoom(const QString& room)
{
    if (!room.isEmpty() && !state(room)) {
        return;
    }
    if (m_windowActive) {
        m_roomList->clearUnread(room);
    }
    if (room == m_currentRoom) {
        return;
    }
    m_currentRoom = room;
    Q_EMIT currentRoomChanged(room);
}

void ChatController::setWindowActive(bool active)
{
    m_windowActive = active;
    if (active && !m_currentRoom.isEmpty()) {
        m_roomList->clearUnread(m_currentRoom);
    }
}

QString ChatController::sendMessage(const QString& text)
{
    // Keep inner line breaks and indentation, drop blank lines around the text.
    QString body = text;
    while (!body.isEmpty() && body.back().isSpace()) {
        body.chop(1);
    }
    while (!body.isEmpty()
        && (body.front() == QLatin1Char('\n') || body.front() == QLatin1Char('\r'))) {
        body.remove(0, 1);
    }
    RoomState* rs = state(m_currentRoom);
    if (body.trimmed().isEmpty() || !rs) {
        return {};
    }
    const QString clientId = m_client.send(m_currentRoom, body);
    m_inFlight.insert(clientId, m_currentRoom);
    rs->messages->addPending(clientId, body, QDateTime::currentDateTimeUtc());
    return clientId;
}

void ChatController::retryMessage(const QString& room, const QString& clientId)
{
    RoomState* rs = state(room);
    if (!rs) {
        return;
    }
    const int row = rs->messages->rowOfClientId(clientId);
    if (row < 0 || rs->messages->entry(row).delivery != TimelineEntry::Delivery::Failed) {
        return;
    }
    // A failed message never reached the server's store: a new send (new client id) cannot
    // duplicate it.
    const QString newId = m_client.send(room, rs->messages->entry(row).body);
    m_inFlight.insert(newId, room);
    rs->messages->markRetried(clientId, newId);
}

void ChatController::discardMessage(const QString& room, const QString& clientId)
{
    RoomState* rs = state(room);
    if (!rs) {
        return;
    }
    const int row = rs->messages->rowOfClientId(clientId);
    if (row >= 0 && rs->messages->entry(row).delivery == TimelineEntry::Delivery::Failed) {
        rs->messages->removeUnsettled(clientId);
    }
}

void ChatController::loadOlderMessages(const QString& room)
{
    RoomState* rs = state(room);
    if (!rs || !rs->historyRequest.isEmpty() || !rs->hasOlder || !rs->initialLoaded) {
        return;
    }
    requestHistory(room, *rs, true);
}

bool ChatController::isLoadingHistory(const QString& room) const
{
    const RoomState* rs = state(room);
    return rs && !rs->historyRequest.isEmpty();
}

bool ChatController::hasOlderMessages(const QString& room) const
{
    const RoomState* rs = state(room);
    return rs && rs->hasOlder;
}

void ChatController::requestHistory(const QString& room, RoomState& rs, bool older)
{
    const auto oldest = rs.messages->oldestSeq();
    HistoryQuery query = older && oldest ? HistoryQuery::before(*oldest, HistoryPageSize)
                                         : HistoryQuery::latest(HistoryPageSize);
    setHistoryRequest(room, rs, m_client.fetchHistory(room, query));
}

void ChatController::setHistoryRequest(const QString& room, RoomState& rs, const QString& requestId)
{
    const bool wasLoading = !rs.historyRequest.isEmpty();
    rs.historyRequest = requestId;
    if (wasLoading != !requestId.isEmpty()) {
        Q_EMIT historyLoadingChanged(room, !requestId.isEmpty());
    }
}

void ChatController::onJoined(const QString& room, quint64 lastSeq, const QStringList& members)
{
    RoomState* rs = state(room);
    if (!rs) {
        return;
    }
    m_roomList->setJoinState(room, RoomListModel::JoinState::Joined);
    QStringList present = members;
    if (!present.contains(localUser())) {
        present.append(localUser());
    }
    rs->members->resetMembers(present);
    if (rs->initialLoaded || !rs->historyRequest.isEmpty()) {
        // A rejoin after a reconnect: the SDK replays what was missed.
        return;
    }
    if (lastSeq == 0) {
        rs->initialLoaded = true;
        rs->hasOlder = false;
        return;
    }
    requestHistory(room, *rs, false);
}

void ChatController::onJoinFailed(const QString& room, const parley::Error& error)
{
    if (!state(room)) {
        return;
    }
    m_roomList->setJoinState(room, RoomListModel::JoinState::Failed);
    Q_EMIT problemReported(tr("Could not join #%1: %2").arg(room, error.message));
}

void ChatController::onMessageReceived(const parley::Message& message)
{
    RoomState* rs = state(message.room);
    if (!rs) {
        return;
    }
    rs->messages->addMessages({ message });
    const bool own = message.sender == localUser();
    const bool inView = message.room == m_currentRoom && m_windowActive;
    m_roomList->noteMessage(
        message.room, message.sender, message.body, message.timestamp, !own && !inView);
    if (!own && !inView) {
        Q_EMIT notificationRequested(message.room, message.sender, message.body);
    }
}

void ChatController::onMessageAcked(const QString& clientId, const QString& room, quint64 seq)
{
    m_inFlight.remove(clientId);
    if (RoomState* rs = state(room)) {
        rs->messages->markAcked(clientId, seq);
    }
}

void ChatController::onMessageFailed(const QString& clientId, const parley::Error& error)
{
    const QString room = m_inFlight.take(clientId);
    if (RoomState* rs = state(room)) {
        rs->messages->markFailed(clientId, error.message);
    }
}

void ChatController::onHistoryReceived(const QString& requestId, const QString& room,
    const QList<parley::Message>& messages, bool hasMore)
{
    RoomState* rs = state(room);
    if (!rs || rs->historyRequest != requestId) {
        return;
    }
    rs->messages->addMessages(messages);
    rs->hasOlder = hasMore;
    rs->initialLoaded = true;
    if (!messages.isEmpty()) {
        const auto& newest = messages.constLast();
        m_roomList->noteMessage(room, newest.sender, newest.body, newest.timestamp, false);
    }
    setHistoryRequest(room, *rs, QString());
}

void ChatController::onHistoryFailed(
    const QString& requestId, const QString& room, const parley::Error& error)
{
    RoomState* rs = state(room);
    if (!rs || rs->historyRequest != requestId) {
        return;
    }
    setHistoryRequest(room, *rs, QString());
    if (error.code != ErrorCode::Cancelled) {
        Q_EMIT problemReported(
            tr("Could not load the history of #%1: %2").arg(room, error.message));
    }
}

void ChatController::onPresenceChanged(const QString& room, const QString& user, bool online)
{
    if (RoomState* rs = state(room)) {
        rs->members->setOnline(user, online);
    }
}

void ChatController::onHistoryGap(const QString& room, quint64 fromSeq, quint64 toSeq)
{
    if (RoomState* rs = state(room)) {
        rs->messages->addGap(fromSeq, toSeq);
    }
}

void ChatController::onStreamReset(const QString& room, const QString& epoch)
{
    Q_UNUSED(epoch)
    RoomState* rs = state(room);
    if (!rs) {
        return;
    }
    // Seqs of the old stream mean nothing in the new one: start the timeline over.
    rs->messages->clearSettled();
    rs->initialLoaded = false;
    rs->hasOlder = true;
    requestHistory(room, *rs, false);
}

} // namespace parley::desktop
