// createEventDispatcher(): epoll by default on Linux, Qt's own with PARLEY_EVENT_DISPATCHER=qt,
// and the result actually runs a thread when installed the documented way.
#include "epolleventdispatcher.h"
#include "eventdispatcherfactory.h"

#include <QAbstractEventDispatcher>
#include <QThread>
#include <QtGlobal>
#include <gtest/gtest.h>
#include <memory>

namespace parley::server {
namespace {

class DispatcherEnv : public ::testing::Test {
protected:
    void SetUp() override
    {
        m_hadValue = qEnvironmentVariableIsSet("PARLEY_EVENT_DISPATCHER");
        m_saved = qgetenv("PARLEY_EVENT_DISPATCHER");
    }
    void TearDown() override
    {
        if (m_hadValue) {
            qputenv("PARLEY_EVENT_DISPATCHER", m_saved);
        } else {
            qunsetenv("PARLEY_EVENT_DISPATCHER");
        }
    }

private:
    bool m_hadValue = false;
    QByteArray m_saved;
};

TEST_F(DispatcherEnv, EpollIsTheDefaultOnLinux)
{
    qunsetenv("PARLEY_EVENT_DISPATCHER");
    const auto dispatcher = createEventDispatcher();
    ASSERT_NE(dispatcher, nullptr);
    EXPECT_NE(qobject_cast<EpollEventDispatcher*>(dispatcher.get()), nullptr);
    EXPECT_STREQ(eventDispatcherName(dispatcher.get()), "epoll");

    qputenv("PARLEY_EVENT_DISPATCHER", "epoll");
    EXPECT_NE(createEventDispatcher(), nullptr);
}

TEST_F(DispatcherEnv, QtValueKeepsQtsDispatcher)
{
    qputenv("PARLEY_EVENT_DISPATCHER", "qt");
    EXPECT_EQ(createEventDispatcher(), nullptr);
    EXPECT_STREQ(eventDispatcherName(nullptr), "qt");
    qputenv("PARLEY_EVENT_DISPATCHER", " QT ");
    EXPECT_EQ(createEventDispatcher(), nullptr);
}

TEST_F(DispatcherEnv, InstalledOnAWorkerThreadBeforeStart)
{
    qunsetenv("PARLEY_EVENT_DISPATCHER");
    QAbstractEventDispatcher* seen = nullptr;
    std::unique_ptr<QThread> thread(
        QThread::create([&] { seen = QAbstractEventDispatcher::instance(); }));
    auto dispatcher = createEventDispatcher();
    ASSERT_NE(dispatcher, nullptr);
    QAbstractEventDispatcher* raw = dispatcher.get();
    thread->setEventDispatcher(dispatcher.release());
    thread->start();
    ASSERT_TRUE(thread->wait(QDeadlineTimer(10'000)));
    EXPECT_EQ(seen, raw);
}

} // namespace
} // namespace parley::server
