// MessageView + MessageDelegate: links, cached layout on long timelines, and the scrolling a chat
// needs (follow the bottom, keep the reader's place when history is inserted above).
#include "models/messagemodel.h"
#include "waituntil.h"
#include "widgets/messagedelegate.h"
#include "widgets/messageview.h"

#include <QScrollBar>
#include <QSignalSpy>
#include <QTest>
#include <gtest/gtest.h>

using parley::desktop::MessageDelegate;
using parley::desktop::MessageModel;
using parley::desktop::MessageView;
using parley::test::waitUntil;

namespace {

QList<parley::Message> messages(quint64 from, quint64 to)
{
    const QDateTime base = QDateTime::currentDateTimeUtc().addDays(-1);
    QList<parley::Message> list;
    for (quint64 seq = from; seq <= to; ++seq) {
        parley::Message m;
        m.room = QStringLiteral("lobby");
        m.seq = seq;
        m.id = QStringLiteral("m%1").arg(seq);
        // Alternate senders every few messages so groups, headers and avatars all occur.
        m.sender = (seq / 3) % 2 ? QStringLiteral("bob") : QStringLiteral("carol");
        m.body = seq % 7 == 0
            ? QStringLiteral("message %1 is a longer one that has to wrap over more than one line "
                             "in a view of this width, with a link https://example.org/%1 too")
                  .arg(seq)
            : QStringLiteral("message %1").arg(seq);
        m.timestamp = base.addSecs(qint64(seq) * 20);
        list.append(m);
    }
    return list;
}

struct ViewFixture {
    ViewFixture()
        : model(QStringLiteral("lobby"), QStringLiteral("alice"))
    {
        view.resize(600, 400);
        view.setModel(&model);
        view.show();
    }

    int topSeq() const { return view.indexAt(QPoint(5, 5)).data(MessageModel::SeqRole).toInt(); }

    //! Waits until the view has laid out its rows (the layout runs on a zero timer).
    bool settled()
    {
        return waitUntil([this] {
            const QModelIndex last = model.index(model.rowCount() - 1);
            return model.rowCount() == 0 || view.visualRect(last).height() > 0;
        });
    }

    MessageModel model;
    MessageView view;
};

} // namespace

TEST(MessageDelegateTest, FindsLinksAndLeavesSentencePunctuationOut)
{
    const QString text = QStringLiteral(
        "see https://example.org/a?b=1, or (www.qt.io). Also http://x.test/path_(1)!");
    const auto links = MessageDelegate::findLinks(text);
    ASSERT_EQ(links.size(), 3);
    EXPECT_EQ(
        text.mid(links[0].start, links[0].length), QStringLiteral("https://example.org/a?b=1"));
    EXPECT_EQ(links[1].url.host(), QStringLiteral("www.qt.io"));
    EXPECT_EQ(text.mid(links[2].start, links[2].length), QStringLiteral("http://x.test/path_(1)"));
    EXPECT_TRUE(MessageDelegate::findLinks(QStringLiteral("no links here: example.org")).isEmpty());
}

TEST(MessageViewTest, NewMessageInALongTimelineLaysOutOnlyItself)
{
    ViewFixture f;
    f.model.addMessages(messages(1, 10000));
    ASSERT_TRUE(f.settled());
    QScrollBar* bar = f.view.verticalScrollBar();
    ASSERT_TRUE(waitUntil([&] { return bar->maximum() > 0 && bar->value() == bar->maximum(); }))
        << "a freshly loaded timeline shows its newest messages";

    const int before = f.view.messageDelegate()->layoutCount();
    const int oldMax = bar->maximum();
    f.model.addMessages(messages(10001, 10001));
    ASSERT_TRUE(waitUntil([&] { return bar->maximum() > oldMax; }));
    ASSERT_TRUE(f.settled());
    EXPECT_LE(f.view.messageDelegate()->layoutCount() - before, 3)
        << "sizes of the 10,000 other rows must come from the cache";
    EXPECT_EQ(bar->value(), bar->maximum()) << "the view follows new messages at the bottom";
}

TEST(MessageViewTest, ReadersPlaceIsKeptWhenOlderHistoryArrivesAbove)
{
    ViewFixture f;
    f.model.addMessages(messages(501, 700));
    ASSERT_TRUE(f.settled());
    QScrollBar* bar = f.view.verticalScrollBar();
    ASSERT_TRUE(waitUntil([&] { return bar->maximum() > 0; }));

    // The user scrolls up to read.
    bar->setValue(bar->maximum() / 3);
    ASSERT_FALSE(f.view.isAtBottom());
    const int seqAtTop = f.topSeq();
    ASSERT_GT(seqAtTop, 501);

    const int oldMax = bar->maximum();
    f.model.addMessages(messages(401, 500)); // older page, inserted above
    ASSERT_TRUE(waitUntil([&] { return bar->maximum() > oldMax; }));
    EXPECT_EQ(f.topSeq(), seqAtTop);

    // New messages at the bottom do not move what the user reads either.
    const int value = bar->value();
    const int max2 = bar->maximum();
    f.model.addMessages(messages(701, 720));
    ASSERT_TRUE(waitUntil([&] { return bar->maximum() > max2; }));
    EXPECT_EQ(bar->value(), value);
    EXPECT_EQ(f.topSeq(), seqAtTop);
}

TEST(MessageViewTest, ScrollingNearTheTopAsksForOlderMessages)
{
    ViewFixture f;
    f.model.addMessages(messages(301, 500));
    ASSERT_TRUE(f.settled());
    QScrollBar* bar = f.view.verticalScrollBar();
    ASSERT_TRUE(waitUntil([&] { return bar->maximum() > 0; }));
    QSignalSpy wanted(&f.view, &MessageView::olderMessagesWanted);
    bar->setValue(bar->maximum() - 10);
    EXPECT_EQ(wanted.count(), 0);
    bar->setValue(0);
    EXPECT_GE(wanted.count(), 1);
}

TEST(MessageViewTest, RetryAndDiscardAreClickableUnderAFailedMessage)
{
    ViewFixture f;
    f.model.addMessages(messages(1, 3));
    f.model.addPending(
        QStringLiteral("c1"), QStringLiteral("did not go"), QDateTime::currentDateTimeUtc());
    f.model.markFailed(QStringLiteral("c1"), QStringLiteral("rate limited"));
    ASSERT_TRUE(f.settled());
    const QModelIndex failed = f.model.index(3);
    QRect rect;
    ASSERT_TRUE(waitUntil([&] {
        rect = f.view.visualRect(failed);
        return rect.isValid() && rect.bottom() < f.view.viewport()->height();
    }));

    // Find Retry and Discard by hit-testing the row, as a click would.
    QStyleOptionViewItem option;
    option.initFrom(f.view.viewport());
    option.font = f.view.font();
    option.widget = &f.view;
    option.rect = rect;
    QPoint retry;
    QPoint discard;
    for (int y = rect.top(); y <= rect.bottom() && (retry.isNull() || discard.isNull()); ++y) {
        for (int x = rect.left(); x < rect.right(); x += 2) {
            const auto hit = f.view.messageDelegate()->hitTest(option, failed, QPoint(x, y));
            if (hit.kind == MessageDelegate::Hit::Kind::Retry && retry.isNull()) {
                retry = QPoint(x, y);
            } else if (hit.kind == MessageDelegate::Hit::Kind::Discard && discard.isNull()) {
                discard = QPoint(x, y);
            }
        }
    }
    ASSERT_FALSE(retry.isNull());
    ASSERT_FALSE(discard.isNull());
    EXPECT_LT(retry.x(), discard.x());

    QSignalSpy retried(&f.view, &MessageView::retryRequested);
    QSignalSpy discarded(&f.view, &MessageView::discardRequested);
    QTest::mouseClick(f.view.viewport(), Qt::LeftButton, {}, retry);
    ASSERT_EQ(retried.count(), 1);
    EXPECT_EQ(retried.at(0).at(0).toString(), QStringLiteral("c1"));
    QTest::mouseClick(f.view.viewport(), Qt::LeftButton, {}, discard);
    ASSERT_EQ(discarded.count(), 1);
    EXPECT_EQ(discarded.at(0).at(0).toString(), QStringLiteral("c1"));
}
