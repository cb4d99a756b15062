// NetworkMonitor: networkReturned() exactly on the way from unreachable to reachable.
#include "reconnect/networkmonitor.h"

#include <QSignalSpy>

#include <gtest/gtest.h>

namespace parley {
namespace {

using Reachability = QNetworkInformation::Reachability;

TEST(NetworkMonitor, ReportsTheNetworkComingBackOncePerOutage)
{
    NetworkMonitor monitor;
    QSignalSpy returned(&monitor, &NetworkMonitor::networkReturned);
    monitor.observe(Reachability::Disconnected);
    EXPECT_EQ(returned.count(), 0);
    monitor.observe(Reachability::Online);
    EXPECT_EQ(returned.count(), 1);
    // Still reachable: no new attempt for a change of kind.
    monitor.observe(Reachability::Site);
    monitor.observe(Reachability::Online);
    EXPECT_EQ(returned.count(), 1);
    // A second outage, through a local-only network, then back.
    monitor.observe(Reachability::Local);
    EXPECT_EQ(returned.count(), 1);
    monitor.observe(Reachability::Site);
    EXPECT_EQ(returned.count(), 2);
}

TEST(NetworkMonitor, AnUnknownStateThatResolvesToReachableCountsAsReturned)
{
    NetworkMonitor monitor;
    QSignalSpy returned(&monitor, &NetworkMonitor::networkReturned);
    monitor.observe(Reachability::Unknown);
    monitor.observe(Reachability::Online);
    EXPECT_EQ(returned.count(), 1);
}

} // namespace
} // namespace parley
