#include "widgets/messagedelegate.h"

#include "models/messagemodel.h"
#include "models/timelineentry.h"
#include "widgets/avatar.h"

#include <QAbstractItemView>
#include <QAbstractTextDocumentLayout>
#include <QApplication>
#include <QDate>
#include <QLocale>
#include <QPainter>
#include <QRegularExpression>
#include <QTextCursor>
#include <cmath>

namespace parley::desktop {

namespace {

constexpr int SideMargin = 12;
constexpr int AvatarGap = 10;
constexpr int GroupTopPadding = 8;
constexpr int GroupedTopPadding = 1;
constexpr int BottomPadding = 2;
constexpr int DocumentMargin = 0;

QFont smallFont(const QFont& base)
{
    QFont f = base;
    f.setPointSizeF(base.pointSizeF() > 0 ? base.pointSizeF() * 0.85 : 8);
    return f;
}

QFont boldFont(const QFont& base)
{
    QFont f = base;
    f.setBold(true);
    return f;
}

int avatarSize(const QFont& base)
{
    return QFontMetrics(base).height() * 2 + 2;
}

int viewWidth(const QStyleOptionViewItem& option)
{
    if (const auto* view = qobject_cast<const QAbstractItemView*>(option.widget)) {
        return view->viewport()->width();
    }
    return option.rect.width();
}

QString dayLabel(const QDate& day)
{
    const QDate today = QDate::currentDate();
    if (day == today) {
        return QObject::tr("Today");
    }
    if (day == today.addDays(-1)) {
        return QObject::tr("Yesterday");
    }
    return QLocale().toString(day, QLocale::LongFormat);
}

QString timeLabel(const QDateTime& time)
{
    // The locale's short time, without seconds (some locales put them in the short format).
    static const QString format = [] {
        QString f = QLocale().timeFormat(QLocale::ShortFormat);
        f.remove(QRegularExpression(QStringLiteral("[:.]ss")));
        return f;
    }();
    return QLocale().toString(time.toLocalTime().time(), format);
}

TimelineEntry::Kind kindOf(const QModelIndex& index)
{
    return TimelineEntry::Kind(index.data(MessageModel::KindRole).toInt());
}

TimelineEntry::Delivery deliveryOf(const QModelIndex& index)
{
    return TimelineEntry::Delivery(index.data(MessageModel::DeliveryRole).toInt());
}

QString statusText(const QModelIndex& index)
{
    if (!index.data(MessageModel::IsOwnRole).toBool()) {
        return {};
    }
    switch (deliveryOf(index)) {
    case TimelineEntry::Delivery::Pending:
        return QObject::tr("sending…");
    case TimelineEntry::Delivery::Confirmed:
        return QStringLiteral("✓");
    case TimelineEntry::Delivery::Failed:
        return {};
    }
    return {};
}

int statusColumnWidth(const QFont& base)
{
    return QFontMetrics(smallFont(base)).horizontalAdvance(QObject::tr("sending…")) + SideMargin;
}

} // namespace

struct MessageDelegate::Layout {
    int height = 0;
    QRect day;
    QRect avatar;
    QRect header;
    QRect body;
    QRect status;
    QRect failure;
    QRect retry;
    QRect discard;
    QRect gap;
    QTextDocument* document = nullptr;
};

MessageDelegate::MessageDelegate(QObject* parent)
    : QStyledItemDelegate(parent)
    , m_documents(400)
    , m_heights(100000)
{
}

MessageDelegate::~MessageDelegate() = default;

void MessageDelegate::clearCaches()
{
    m_documents.clear();
    m_heights.clear();
}

QList<MessageDelegate::LinkSpan> MessageDelegate::findLinks(const QString& text)
{
    static const QRegularExpression link(QStringLiteral(R"((?:https?://|www\.)[^\s<>"]+)"),
        QRegularExpression::CaseInsensitiveOption);
    QList<LinkSpan> spans;
    auto it = link.globalMatch(text);
    while (it.hasNext()) {
        const auto match = it.next();
        QString address = match.captured(0);
        // Punctuation that ends a sentence is not part of the address.
        while (!address.isEmpty() && QStringLiteral(".,;:!?'\")]}").contains(address.back())) {
            if (address.back() == QLatin1Char(')')
                && address.count(QLatin1Char('(')) >= address.count(QLatin1Char(')'))) {
                break;
            }
            address.chop(1);
        }
        const QUrl url = QUrl::fromUserInput(address);
        if (!url.isValid() || address.size() < 5) {
            continue;
        }
        spans.append(LinkSpan { int(match.capturedStart(0)), int(address.size()), url });
    }
    return spans;
}

QTextDocument* MessageDelegate::documentFor(
    const QStyleOptionViewItem& option, const QModelIndex& index, int width) const
{
    const QString key = index.data(MessageModel::CacheKeyRole).toString() + QLatin1Char('|')
        + QString::number(width);
    if (QTextDocument* cached = m_documents.object(key)) {
        return cached;
    }
    ++m_layoutCount;
    auto doc = std::make_unique<QTextDocument>();
    doc->setDocumentMargin(DocumentMargin);
    doc->setDefaultFont(option.font);
    doc->setUndoRedoEnabled(false);
    const QString body = index.data(MessageModel::BodyRole).toString();
    doc->setPlainText(body);
    QTextCursor cursor(doc.get());
    for (const auto& span : findLinks(body)) {
        cursor.setPosition(span.start);
        cursor.setPosition(span.start + span.length, QTextCursor::KeepAnchor);
        QTextCharFormat format;
        format.setAnchor(true);
        format.setAnchorHref(span.url.toString());
        format.setForeground(option.palette.link());
        format.setFontUnderline(true);
        cursor.mergeCharFormat(format);
    }
    doc->setTextWidth(width);
    QTextDocument* raw = doc.get();
    m_documents.insert(key, doc.release());
    return raw;
}

MessageDelegate::Layout MessageDelegate::layoutFor(
    const QStyleOptionViewItem& option, const QModelIndex& index) const
{
    Layout l;
    const QRect row(option.rect.left(), option.rect.top(), viewWidth(option), option.rect.height());
    const QFontMetrics fm(option.font);
    const QFontMetrics smallFm(smallFont(option.font));
    int y = row.top();

    if (index.data(MessageModel::StartsDayRole).toBool()) {
        l.day = QRect(row.left(), y, row.width(), smallFm.height() + 16);
        y = l.day.bottom() + 1;
    }

    if (kindOf(index) == TimelineEntry::Kind::Gap) {
        l.gap = QRect(
            row.left() + SideMargin, y + 6, row.width() - 2 * SideMargin, smallFm.height() * 2 + 8);
        l.height = l.gap.bottom() + 7 - row.top();
        return l;
    }

    const bool grouped = index.data(MessageModel::GroupedWithPreviousRole).toBool();
    const int avatar = avatarSize(option.font);
    const int contentLeft = row.left() + SideMargin + avatar + AvatarGap;
    const int statusWidth = statusColumnWidth(option.font);
    const int contentWidth = std::max(40, row.right() - SideMargin - statusWidth - contentLeft);

    y += grouped ? GroupedTopPadding : GroupTopPadding;
    if (!grouped) {
        l.avatar = QRect(row.left() + SideMargin, y, avatar, avatar);
        l.header = QRect(contentLeft, y, contentWidth, fm.height());
        y = l.header.bottom() + 1;
    }
    l.document = documentFor(option, index, contentWidth);
    const QSizeF docSize = l.document->size();
    l.body = QRect(contentLeft, y, contentWidth, int(std::ceil(docSize.height())));
    l.status = QRect(row.right() - SideMargin - statusWidth + SideMargin / 2,
        grouped ? l.body.top() : l.header.top(), statusWidth, fm.height());
    y = l.body.bottom() + 1;

    if (deliveryOf(index) == TimelineEntry::Delivery::Failed) {
        l.failure = QRect(contentLeft, y + 2, contentWidth, smallFm.height() + 4);
        const QString notSent = tr("Not sent.");
        int x = contentLeft + smallFm.horizontalAdvance(notSent) + 12;
        const QString retry = tr("Retry");
        const QString discard = tr("Discard");
        l.retry
            = QRect(x, l.failure.top(), smallFm.horizontalAdvance(retry) + 8, l.failure.height());
        x = l.retry.right() + 8;
        l.discard
            = QRect(x, l.failure.top(), smallFm.horizontalAdvance(discard) + 8, l.failure.height());
        y = l.failure.bottom() + 1;
    }
    if (!grouped) {
        y = std::max(y, l.avatar.bottom() + 1);
    }
    l.height = y + BottomPadding - row.top();
    return l;
}

QSize MessageDelegate::sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const
{
    QStyleOptionViewItem opt = option;
    initStyleOption(&opt, index);
    const int width = viewWidth(opt);
    const QString key = index.data(MessageModel::CacheKeyRole).toString() + QLatin1Char('|')
        + QString::number(width) + QLatin1Char('|') + opt.font.key();
    if (const int* height = m_heights.object(key)) {
        return QSize(width, *height);
    }
    const Layout l = layoutFor(opt, index);
    m_heights.insert(key, new int(l.height));
    return QSize(width, l.height);
}

void MessageDelegate::paint(
    QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const
{
    QStyleOptionViewItem opt = option;
    initStyleOption(&opt, index);
    const Layout l = layoutFor(opt, index);
    const QPalette& pal = opt.palette;
    const QColor dim = pal.color(QPalette::PlaceholderText);
    painter->save();
    painter->setRenderHint(QPainter::Antialiasing);
    painter->setRenderHint(QPainter::TextAntialiasing);

    if (opt.state & QStyle::State_MouseOver && kindOf(index) == TimelineEntry::Kind::Message) {
        QColor hover = pal.color(QPalette::Text);
        hover.setAlpha(14);
        const int top = l.day.isNull() ? opt.rect.top() : l.day.bottom() + 1;
        painter->fillRect(
            QRect(opt.rect.left(), top, opt.rect.width(), opt.rect.bottom() - top + 1), hover);
    }

    if (!l.day.isNull()) {
        const QDate day = index.data(MessageModel::TimestampRole).toDateTime().toLocalTime().date();
        const QString label = dayLabel(day);
        const QFont font = boldFont(smallFont(opt.font));
        painter->setFont(font);
        const QFontMetrics dfm(font);
        const int textWidth = dfm.horizontalAdvance(label) + 24;
        const int midY = l.day.center().y();
        painter->setPen(QPen(pal.color(QPalette::Mid), 1));
        painter->drawLine(
            l.day.left() + SideMargin, midY, l.day.center().x() - textWidth / 2, midY);
        painter->drawLine(
            l.day.center().x() + textWidth / 2, midY, l.day.right() - SideMargin, midY);
        painter->setPen(dim);
        painter->drawText(l.day, Qt::AlignCenter, label);
    }

    if (kindOf(index) == TimelineEntry::Kind::Gap) {
        const quint64 from = index.data(MessageModel::GapFromRole).toULongLong();
        const quint64 to = index.data(MessageModel::GapToRole).toULongLong();
        const QString text = from == to
            ? tr("Message %1 could not be delivered: the server no longer has it.").arg(from)
            : tr("Messages %1 to %2 could not be delivered: the server no longer has them.")
                  .arg(from)
                  .arg(to);
        QColor frame = pal.color(QPalette::Mid);
        painter->setPen(QPen(frame, 1, Qt::DashLine));
        painter->setBrush(Qt::NoBrush);
        painter->drawRoundedRect(l.gap, 6, 6);
        QFont f = smallFont(opt.font);
        f.setItalic(true);
        painter->setFont(f);
        painter->setPen(dim);
        painter->drawText(l.gap.adjusted(8, 0, -8, 0), Qt::AlignCenter | Qt::TextWordWrap, text);
        painter->restore();
        return;
    }

    const QString sender = index.data(MessageModel::SenderRole).toString();
    const auto delivery = deliveryOf(index);
    if (!l.avatar.isNull()) {
        Avatar::paint(painter, l.avatar, sender, pal);
        const QFont bold = boldFont(opt.font);
        painter->setFont(bold);
        painter->setPen(Avatar::nameColor(sender, pal));
        const QFontMetrics bfm(bold);
        const QString name = bfm.elidedText(sender, Qt::ElideRight, l.header.width() / 2);
        painter->drawText(l.header, Qt::AlignLeft | Qt::AlignVCenter, name);
        const QDateTime time = index.data(MessageModel::TimestampRole).toDateTime();
        if (time.isValid()) {
            painter->setFont(smallFont(opt.font));
            painter->setPen(dim);
            painter->drawText(l.header.adjusted(bfm.horizontalAdvance(name) + 8, 0, 0, 0),
                Qt::AlignLeft | Qt::AlignVCenter, timeLabel(time));
        }
    }

    // The text: dimmed until the server has it.
    QAbstractTextDocumentLayout::PaintContext context;
    context.palette = pal;
    context.palette.setColor(QPalette::Text,
        delivery == TimelineEntry::Delivery::Confirmed ? pal.color(QPalette::Text) : dim);
    painter->translate(l.body.topLeft());
    l.document->documentLayout()->draw(painter, context);
    painter->translate(-l.body.topLeft());

    const QString status = statusText(index);
    if (!status.isEmpty()) {
        painter->setFont(smallFont(opt.font));
        painter->setPen(dim);
        painter->drawText(l.status, Qt::AlignRight | Qt::AlignVCenter, status);
    }

    if (!l.failure.isNull()) {
        const QColor error = pal.color(QPalette::Text).lightness() > 128 ? QColor(0xff, 0x6b, 0x6b)
                                                                         : QColor(0xc0, 0x1c, 0x28);
        painter->setFont(smallFont(opt.font));
        painter->setPen(error);
        painter->drawText(l.failure, Qt::AlignLeft | Qt::AlignVCenter, tr("Not sent."));
        QFont linkFont = boldFont(smallFont(opt.font));
        painter->setFont(linkFont);
        painter->setPen(pal.color(QPalette::Link));
        painter->drawText(l.retry, Qt::AlignCenter, tr("Retry"));
        painter->drawText(l.discard, Qt::AlignCenter, tr("Discard"));
        const QString reason = index.data(MessageModel::FailureRole).toString();
        if (!reason.isEmpty()) {
            painter->setFont(smallFont(opt.font));
            painter->setPen(dim);
            const QRect rest(l.discard.right() + 12, l.failure.top(),
                l.failure.right() - l.discard.right() - 12, l.failure.height());
            painter->drawText(rest, Qt::AlignLeft | Qt::AlignVCenter,
                QFontMetrics(smallFont(opt.font)).elidedText(reason, Qt::ElideRight, rest.width()));
        }
    }
    painter->restore();
}

MessageDelegate::Hit MessageDelegate::hitTest(
    const QStyleOptionViewItem& option, const QModelIndex& index, QPoint pos) const
{
    if (!index.isValid() || kindOf(index) != TimelineEntry::Kind::Message) {
        return {};
    }
    QStyleOptionViewItem opt = option;
    initStyleOption(&opt, index);
    const Layout l = layoutFor(opt, index);
    if (l.retry.contains(pos)) {
        return Hit { Hit::Kind::Retry, {} };
    }
    if (l.discard.contains(pos)) {
        return Hit { Hit::Kind::Discard, {} };
    }
    if (l.body.contains(pos) && l.document) {
        const QString href = l.document->documentLayout()->anchorAt(pos - l.body.topLeft());
        if (!href.isEmpty()) {
            return Hit { Hit::Kind::Link, QUrl(href) };
        }
    }
    return {};
}

} // namespace parley::desktop
