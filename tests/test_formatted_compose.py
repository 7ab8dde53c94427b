"""Formatted mail in a real Chromium against the real Dovecot and SMTP server: the toolbar's
formatting, a paste from a Word-like clipboard, and a reply quoting a formatted original, each
arriving at the SMTP server as multipart/alternative whose text part says the same."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage

import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect

from .helpers import received

WORDS = {"en": {"New": "New", "New email": "New email", "Message": "Message", "To": "To", "Subject": "Subject",
                "Formatting": "Formatting", "Bold": "Bold", "Bulleted list": "Bulleted list", "Send": "Send"},
         "sv": {"New": "Nytt e-postmeddelande", "New email": "Nytt e-postmeddelande", "Message": "Meddelande",
                "To": "Till", "Subject": "Ämne", "Formatting": "Formatering", "Bold": "Fetstil",
                "Bulleted list": "Punktlista", "Send": "Skicka"}}

WORD_CLIPBOARD = (
    '<html xmlns:o="urn:schemas-microsoft-com:office:office"><head><style>p.MsoNormal{margin:0}</style></head>'
    '<body><!--StartFragment--><p class="MsoNormal" style="mso-line-height-alt:12pt"><b>Pris</b>: 100 kr'
    '<o:p></o:p></p><p class="MsoNormal"><img src="https://tracker.example/word.png">Leverans <i>vecka 12</i>'
    '</p><!--EndFragment--></body></html>')


def _parsed_html_and_text(received_message) -> tuple[str, str]:
    sent = email.message_from_bytes(received_message.data, policy=email.policy.default)
    assert sent.get_content_type() == "multipart/alternative"
    return (sent.get_body(("html",)).get_content(), sent.get_body(("plain",)).get_content().replace("\r\n", "\n"))


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_formatting_and_a_word_paste_arrive_as_html_with_a_faithful_text_part(inbox_page, lab, lang):
    words = WORDS[lang]
    page = inbox_page(lang)
    lab.received.clear()
    page.get_by_role("link", name=words["New"], exact=True).click()
    dialog = page.get_by_role("dialog", name=words["New email"])
    editor = dialog.get_by_role("textbox", name=words["Message"])
    tools = dialog.get_by_role("toolbar", name=words["Formatting"])
    expect(tools).to_be_visible()  # the editor has taken the text area's place
    dialog.get_by_label(words["To"], exact=True).fill("kund@example.test")
    dialog.get_by_label(words["Subject"], exact=True).fill(f"Formaterad {lang}")
    editor.click()
    page.keyboard.type("Hej ")
    tools.get_by_role("button", name=words["Bold"]).click()
    expect(tools.get_by_role("button", name=words["Bold"])).to_have_attribute("aria-pressed", "true")
    page.keyboard.type("Karin")
    tools.get_by_role("button", name=words["Bold"]).click()
    page.keyboard.press("Enter")
    tools.get_by_role("button", name=words["Bulleted list"]).click()
    page.keyboard.type("ett")
    page.keyboard.press("Enter")
    page.keyboard.type("två")
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")  # out of the list
    expect(editor.locator("li")).to_have_text(["ett", "två"])
    expect(editor.locator("b", has_text="Karin")).to_be_visible()
    editor.evaluate("""(box, html) => {
        const data = new DataTransfer();
        data.setData('text/html', html);
        data.setData('text/plain', 'Pris: 100 kr');
        box.dispatchEvent(new ClipboardEvent('paste', {clipboardData: data, bubbles: true, cancelable: true}));
    }""", WORD_CLIPBOARD)
    expect(editor.locator("b", has_text="Pris")).to_be_visible()
    expect(editor.locator("img")).to_have_count(0)  # the pasted remote image is not loaded
    dialog.get_by_role("button", name=words["Send"], exact=True).click()
    expect(page.get_by_role("dialog")).to_have_count(0)

    [sent] = received(lab, f"Formaterad {lang}")
    html, plain = _parsed_html_and_text(sent)
    assert "<b>Karin</b>" in html and "<li>ett</li>" in html and "<li>två</li>" in html
    assert "<b>Pris</b>" in html and "<i>vecka 12</i>" in html
    assert "mso" not in html.lower() and "tracker" not in html and "class=" not in html
    assert plain.startswith("Hej Karin\n- ett\n- två\n") and "Pris: 100 kr" in plain and "Leverans vecka 12" in plain


def test_a_reply_to_a_formatted_email_quotes_it_as_it_looked(inbox_page, lab, mailbox):
    original = EmailMessage()
    original["From"] = "Karin Berg <karin@kund.example>"
    original["To"] = mailbox.address
    original["Subject"] = "Offert med färg"
    original["Message-ID"] = "<formatted-1@kund.example>"
    original.set_content("Priset är 100 kr.")
    original.add_alternative('<p style="color:#006600">Priset är <b>100 kr</b>.</p>'
                             '<img src="https://tracker.example/open.gif">', subtype="html")
    lab.append(mailbox.address, original)
    page = inbox_page("en")
    lab.received.clear()
    page.locator("#message-list .message", has_text="Offert med färg").locator("a").first.click()
    page.get_by_role("link", name="Reply", exact=True).click()
    dialog = page.get_by_role("dialog", name="Reply")
    editor = dialog.get_by_role("textbox", name="Message")
    expect(editor.locator("blockquote b", has_text="100 kr")).to_be_visible()
    expect(editor.locator("img")).to_have_count(0)
    editor.locator("div").first.click()
    page.keyboard.type("Tack, vi tar det.")
    dialog.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_role("dialog")).to_have_count(0)

    [sent] = received(lab, "Re: Offert med färg")
    html, plain = _parsed_html_and_text(sent)
    assert html.index("Tack, vi tar det.") < html.index("<blockquote")
    assert "<b>100 kr</b>" in html and "color:#006600" in html.replace(" ", "") and "tracker" not in html
    assert plain.startswith("Tack, vi tar det.\n") and "> Priset är 100 kr." in plain
    assert email.message_from_bytes(sent.data, policy=email.policy.default)["In-Reply-To"] == \
        "<formatted-1@kund.example>"


def test_typing_before_the_editor_has_started_goes_on_in_it(inbox_page, lab):
    """The text area is there at once; whoever types in it while the editor loads keeps what they
    typed and goes on typing, in the editor that takes its place, without clicking again."""
    page = inbox_page("en")
    held = []
    page.route("**/squire-*.js", lambda route: held.append(route))  # the script waits for the test
    page.get_by_role("link", name="New", exact=True).click()
    dialog = page.get_by_role("dialog", name="New email")
    area = dialog.locator("textarea[name=body]")
    area.click()
    page.keyboard.type("Hej")
    assert held, "the editor's script was asked for"
    held[0].continue_()
    tools = dialog.get_by_role("toolbar", name="Formatting")
    expect(tools).to_be_visible()
    page.keyboard.type(" då")
    expect(dialog.get_by_role("textbox", name="Message")).to_have_text("Hej då")
