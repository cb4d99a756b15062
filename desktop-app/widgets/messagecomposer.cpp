#include "widgets/messagecomposer.h"

#include <QKeyEvent>
#include <QTextBlock>
#include <QTextLayout>
#include <algorithm>

namespace parley::desktop {

namespace {
constexpr int MaxVisibleLines = 6;
} // namespace

MessageComposer::MessageComposer(QWidget* parent)
    : QPlainTextEdit(parent)
{
    setTabChangesFocus(true);
    setLineWrapMode(QPlainTextEdit::WidgetWidth);
    setVerticalScrollBarPolicy(Qt::ScrollBarAsNeeded);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
    connect(this, &QPlainTextEdit::blockCountChanged, this, &MessageComposer::updateHeight);
    connect(document(), &QTextDocument::contentsChanged, this, &MessageComposer::updateHeight);
    updateHeight();
}

void MessageComposer::setRoom(const QString& room)
{
    m_room = room;
    setEnabled(!room.isEmpty());
    setPlaceholderText(room.isEmpty() ? tr("Join a room to chat") : tr("Message #%1").arg(room));
    // QPlainTextEdit repaints for its placeholder only when the placeholder appears or goes away
    // (the document turns empty or not), not when its text changes: the old room's name would
    // stay on screen until something else repaints the input.
    viewport()->update();
}

int MessageComposer::heightForLines(int lines) const
{
    const QMargins m = contentsMargins();
    const int frame = 2 * int(document()->documentMargin()) + m.top() + m.bottom();
    return fontMetrics().lineSpacing() * lines + frame + 4;
}

QSize MessageComposer::sizeHint() const
{
    return QSize(QPlainTextEdit::sizeHint().width(), height());
}

QSize MessageComposer::minimumSizeHint() const
{
    return QSize(100, heightForLines(1));
}

void MessageComposer::updateHeight()
{
    // Visual lines, so long wrapped paragraphs grow the input too.
    int lines = 0;
    for (QTextBlock block = document()->begin(); block.isValid(); block = block.next()) {
        lines += std::max(1, block.layout() ? block.layout()->lineCount() : 1);
    }
    setFixedHeight(heightForLines(std::clamp(lines, 1, MaxVisibleLines)));
}

bool MessageComposer::event(QEvent* event)
{
    if (event->type() == QEvent::ShortcutOverride) {
        const auto* key = static_cast<QKeyEvent*>(event);
        const auto mods = key->modifiers() & ~Qt::KeypadModifier;
        const bool windowKey = mods == Qt::ControlModifier
            && (key->key() == Qt::Key_K || key->key() == Qt::Key_Up || key->key() == Qt::Key_Down);
        if (windowKey) {
            // Not overridden: the window's shortcuts get these keys.
            event->ignore();
            return false;
        }
    }
    return QPlainTextEdit::event(event);
}

void MessageComposer::keyPressEvent(QKeyEvent* event)
{
    const bool enter = event->key() == Qt::Key_Return || event->key() == Qt::Key_Enter;
    const auto mods = event->modifiers() & ~Qt::KeypadModifier;
    if (enter && mods == Qt::NoModifier) {
        const QString text = toPlainText();
        if (!text.trimmed().isEmpty()) {
            Q_EMIT submitted(text);
            clear();
        }
        event->accept();
        return;
    }
    if (enter && mods == Qt::ShiftModifier) {
        insertPlainText(QStringLiteral("\n"));
        event->accept();
        return;
    }
    if (event->key() == Qt::Key_Escape && mods == Qt::NoModifier) {
        clear();
        event->accept();
        return;
    }
    if ((event->key() == Qt::Key_Up || event->key() == Qt::Key_Down)
        && mods == Qt::ControlModifier) {
        Q_EMIT roomSwitchRequested(event->key() == Qt::Key_Up ? -1 : 1);
        event->accept();
        return;
    }
    QPlainTextEdit::keyPressEvent(event);
}

} // namespace parley::desktop
