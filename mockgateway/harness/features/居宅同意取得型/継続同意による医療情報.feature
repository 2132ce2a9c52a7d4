# language: ja
@area:居宅同意取得型
機能: 継続同意による薬剤情報等の取得 (居宅同意取得型)
  初回の同意に基づき、継続的に診療が行われている間は窓口の 24 時間に限らず薬剤情報等を取得できる
  (002 シード)。同意の有効期限が切れた (閲覧同意フラグ 2) か、患者が取り消した後は取得できない。
  継続同意の長さは公開されておらず、設定 consent_days (既定 365 日) で変えられる (docs/home-visit.md)。

  背景:
    前提 現在日時は "2026-11-23 10:00" である
    かつ 既定のペルソナが登録されている
    かつ 医療機関コード "1310112345" のレセコンを使う

  @OQS-HOME-030 @rule:seed-002-居宅同意取得型 @rule:oqs-interface-3.4 @capability:home-visit @capability:medical-info
  シナリオ: 継続同意があれば、窓口での同意なしに薬剤情報が取得できる
    もし レセコンが "kyotaku-ume" の薬剤情報を XML で取得する
    ならば 医療情報の結果コードは "1" である

  @OQS-HOME-031 @rule:oqs-interface-1.5 @capability:home-visit @capability:medical-info
  シナリオ: 継続同意の有効期限が切れていれば薬剤情報は取得できない
    もし レセコンが "kyotaku-kigire" の薬剤情報を XML で取得する
    ならば 医療情報の結果コードは "2" である
    かつ 医療情報のメッセージに "MGW2504" が含まれる
    かつ 医療情報のメッセージに "閲覧同意フラグ 2" が含まれる

  @OQS-HOME-032 @rule:OQS-IF-037 @capability:home-visit @capability:medical-info
  シナリオ: 閲覧同意を取り消した後は薬剤情報も取得できない
    もし レセコンが "kyotaku-ume" の訪問診療等の閲覧同意を取り消す
    ならば 閲覧同意の取り消しが受け付けられた
    もし レセコンが "kyotaku-ume" の薬剤情報を XML で取得する
    ならば 医療情報の結果コードは "2" である
    かつ 医療情報のメッセージに "取り消されました" が含まれる

  @OQS-HOME-033 @doc:home-visit-settings @capability:home-visit @capability:medical-info
  シナリオ: 継続同意の有効期間を 30 日にすると、31 日前の同意は期限切れになる
    前提 居宅同意取得型の継続同意の有効期間は 30 日である
    もし レセコンが "kyotaku-ume" の薬剤情報を XML で取得する
    ならば 医療情報の結果コードは "2" である
    かつ 医療情報のメッセージに "MGW2504" が含まれる
