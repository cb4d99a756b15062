// The connection state of a parley::Client.
#pragma once

#include <parley/export.h>

#include <QString>

namespace parley {

//! Where a Client stands with its server. Reported by Client::stateChanged().
//!
//! Typical lifecycle: Disconnected → Connecting → Connected; a dropped connection goes to
//! Reconnecting (when automatic reconnect is on) or back to Disconnected; disconnectFromServer()
//! or a terminal rejection by the server (bad credentials) ends in Closed.
enum class ConnectionState {
    Disconnected, //!< Not connected and not trying to; the initial state.
    Connecting, //!< Opening the transport and waiting for the server's welcome.
    Connected, //!< Welcomed by the server: joins, sends and history requests flow.
    Reconnecting, //!< The connection was lost; waiting before the next attempt.
    Closed, //!< Closed by the user or for a reason the server marked terminal; no retry.
};

//! A stable lowercase name for a state ("disconnected", "connecting", ...), for logs and UIs.
PARLEY_SDK_EXPORT QString connectionStateName(ConnectionState state);

} // namespace parley
