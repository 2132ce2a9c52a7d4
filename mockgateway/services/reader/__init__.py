"""マイナ保険証 on the face-auth card reader: the terminal's side of a card placement (docs/card.md).

Registers no API id of its own: a placement answers OQSsiquc01 as a `face` result file. `session`
is the terminal the reader talks to (card, challenge, certificate verdict, consent screens);
`face_result` builds the face file; `settings` are the reader's settings; `admin` adds the routes
/admin/reader/* and /admin/cards/*.
"""
