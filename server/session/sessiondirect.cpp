// Session: direct messages (a `direct` frame to one user, on whatever nodes the user is).
#include "app/servercontext.h"
#include "common/clock.h"
#include "common/ids.h"
#include "io/iothread.h"
#include "presence/presencemanager.h"
#include "protocol/codec.h"
#include "routing/noderouter.h"
#include "session.h"

namespace parley::server {

void Session::handle(Ticket ticket, const protocol::Direct& direct)
{
    const ServerContext& context = m_io.context();
    if (direct.body.size() > context.config.maxBodyBytes) {
        replyError(ticket, direct.id, protocol::ErrorCode::BodyTooLarge,
            "direct: body exceeds " + std::to_string(context.config.maxBodyBytes) + " bytes",
            direct.clientId);
        return;
    }
    protocol::DirectMessage message;
    message.from = m_user;
    message.to = direct.to;
    message.clientId = direct.clientId;
    message.msgId = randomHex(8);
    message.body = direct.body;
    message.ts = wallClockMs();
    const std::string json = protocol::encode(message);
    IoThread* io = &m_io;
    const std::uint64_t id = m_id;
    auto finish = [io, id, ticket, direct, message](bool ok, bool delivered) {
        io->runOnSession(id, [ticket, direct, message, ok, delivered](Session& session) {
            session.onDirectRouted(ticket, direct, message, ok, delivered);
        });
    };
    if (context.router) {
        // Cluster: Redis knows the user's nodes (their live presence sessions).
        context.router->sendToUser(
            direct.to, QString::fromStdString(json),
            [finish](bool ok, int nodes) { finish(ok, nodes > 0); });
        return;
    }
    if (!context.presence) {
        finish(false, false);
        return;
    }
    // Alone: the user is here if online at all.
    const ServerContext* shared = &context;
    context.presence->query({ direct.to },
        [shared, finish, to = direct.to, frame = TextFrame::fromUtf8(json)](
            bool ok, std::vector<bool> online) {
            const bool here = ok && online.size() == 1 && online[0];
            if (here) {
                for (IoThread* thread : shared->ioThreads) {
                    thread->deliverToUser(to, frame);
                }
            }
            finish(ok, here);
        });
}

void Session::onDirectRouted(Ticket ticket, const protocol::Direct& direct,
    const protocol::DirectMessage& message, bool ok, bool delivered)
{
    if (m_state == State::Closing) {
        return;
    }
    if (!ok) {
        replyError(ticket, direct.id, protocol::ErrorCode::Unavailable,
            "direct: cannot route messages now, retry", direct.clientId);
        return;
    }
    if (!delivered) {
        replyError(ticket, direct.id, protocol::ErrorCode::UserOffline,
            "direct: " + direct.to + " has no live session", direct.clientId);
        return;
    }
    protocol::DirectAck ack;
    ack.id = direct.id;
    ack.clientId = direct.clientId;
    ack.to = direct.to;
    ack.msgId = message.msgId;
    ack.ts = message.ts;
    reply(ticket, ack);
}

void Session::deliverDirect(const TextFrame& frame)
{
    if (m_state != State::Welcomed) {
        return;
    }
    if (isSlowConsumer()) {
        close(CloseCode::SlowConsumer);
        return;
    }
    sendFrame(frame);
}

} // namespace parley::server
