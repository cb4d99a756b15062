// MessageComposer: where the user types a message.
#pragma once

#include <QPlainTextEdit>

namespace parley::desktop {

//! A plain-text input that grows with its content (up to a few lines): Enter sends, Shift+Enter
//! starts a new line, Escape clears. Ctrl+Up/Ctrl+Down are passed on as room switches so they
//! work while typing, and Ctrl+K is left to the window's room switcher (the platform's text
//! editing keys would otherwise claim it as "delete to end of line").
class MessageComposer : public QPlainTextEdit {
    Q_OBJECT

public:
    explicit MessageComposer(QWidget* parent = nullptr);

    //! The room the input writes to: the placeholder names it ("Message #dev") and shows the
    //! new name at once; an empty `room` disables the input and asks to join one.
    void setRoom(const QString& room);
    QString room() const { return m_room; }

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

Q_SIGNALS:
    //! Enter was pressed on a non-blank text; the input is cleared after this signal.
    void submitted(const QString& text);
    //! Ctrl+Up (-1) or Ctrl+Down (+1).
    void roomSwitchRequested(int step);

protected:
    bool event(QEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;

private:
    int heightForLines(int lines) const;
    void updateHeight();

    QString m_room;
};

} // namespace parley::desktop
