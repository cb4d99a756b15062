// Chatter: one simulated user of the cluster tests. It keeps, across reconnections, every
// message it received for its room, the acks of its own sends and the sends still unacked, so
// tests can assert "no acked message lost or duplicated, identical gapless order".
#pragma once

#include "rawclient.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace parley::test {

class Chatter {
public:
    Chatter(std::string user, std::string room);

    //! Opens a connection to `url`, says hello and joins the room; with `resume`, resumes from
    //! the last seq seen and waits for `recovered`. False if any step fails.
    bool connectTo(const QUrl& url, bool resume);
    bool isOpen() const { return m_client && m_client->isOpen(); }
    //! Reads the frames received since the last call.
    void poll();
    //! Sends a new message (client id user-N), without waiting.
    void sendNext();
    //! Sends again (same client id) every message not acked yet.
    void resendUnacked();

    const std::string& user() const { return m_user; }
    const std::string& room() const { return m_room; }
    std::size_t sentCount() const { return m_sent.size(); }
    std::size_t unacked() const;
    //! Retryable errors answered to sends so far.
    int retryableErrors() const { return m_retryableErrors; }
    const std::vector<protocol::Message>& received() const { return m_received; }
    const std::map<std::string, protocol::Ack>& acks() const { return m_acks; }
    const RawClient* client() const { return m_client.get(); }
    //! The node that welcomed the current connection.
    const std::string& node() const { return m_node; }

private:
    std::string m_user;
    std::string m_room;
    std::unique_ptr<RawClient> m_client;
    std::size_t m_scanned = 0;
    std::string m_node;
    std::string m_epoch;
    std::uint64_t m_lastSeq = 0;
    std::vector<std::string> m_sent;
    std::map<std::string, protocol::Ack> m_acks;
    std::vector<protocol::Message> m_received;
    int m_retryableErrors = 0;
};

} // namespace parley::test
