"""医療情報: 薬剤・診療情報 and 特定健診情報 under consent, and 災害時・救急時 viewing (docs/medical.md).

Registers YZKsiquc01 (薬剤・診療) and TKKsiquc01 (特定健診) in `service`, MGWdsquc01 (災害時 without
a card, ours) in `disaster`, and the admin routes /admin/medical/* (`admin`) and /admin/disaster/*
(`disaster_book`). Records come from a persona's `medical:` key (`fixture`: explicit records in
`records`' types, plus `generate`d history); who may see what is decided in `access`.
"""
