# language: ja
@area:電子証明書
機能: 利用者証明用電子証明書の有効期限・猶予期間・失効 (マイナ保険証)
  端末はカードから読んだ利用者証明用電子証明書を時計の日付で判定する。有効期限まで3か月以内なら
  正常な結果の処理結果コードに通知を付ける。有効期限が切れても、有効期限満了日が属する月の末日から
  3か月間 (猶予期間) は資格情報だけを返し、同意画面は出さず、医療情報は提供しない。猶予期間を過ぎた
  証明書と失効した証明書はカードリーダーのエラー 006 になる (oqs-interface.md §5, docs/card.md)。
  face ファイルが書かれたら、レセコンはそれを読み、通知 (処理結果メッセージ) も含めて表示する。

  背景:
    前提 現在日時は "2026-11-23 10:00" である
    かつ 既定のペルソナが登録されている
    かつ 医療機関コード "1310112345" のレセコンを使う

  @OQS-CERT-001 @rule:oqs-interface-5 @rule:oqs-interface-1.4
  シナリオ: 有効期限まで3か月以内なら、正常な結果に通知が付く
    もし 患者が "myna-kigen-chikai" のマイナンバーカードを置き、顔認証で本人確認して "薬剤" に同意する
    かつ レセコンが face フォルダに届いた資格確認結果を表示する
    ならば face フォルダに結果ファイルが1つ書かれる
    かつ face ファイルの "SegmentOfResult" は "1" である
    かつ face ファイルの "ProcessingResultStatus" は "1" である
    かつ face ファイルの "ProcessingResultCode" は "MGW3301" である
    かつ face ファイルの "ProcessingResultMessage" に "有効期限 20261223" が含まれる
    かつ face ファイルの "QualificationValidity" は "1" である
    かつ face ファイルの "PharmacistsInfoConsFlg" は "1" である

  @OQS-CERT-002 @rule:oqs-interface-5 @rule:oqs-interface-1.4
  シナリオ: 猶予期間中は資格情報だけが返り、同意画面は出ない
    もし 患者が "myna-yuyo" のマイナンバーカードを置き、顔認証で本人確認して "薬剤,特定健診,診療,手術" に同意する
    かつ レセコンが face フォルダに届いた資格確認結果を表示する
    ならば face フォルダに結果ファイルが1つ書かれる
    かつ 同意画面は表示されなかった
    かつ face ファイルの "QualificationValidity" は "1" である
    かつ face ファイルの "Name" は "猶予　保" である
    かつ face ファイルの "ProcessingResultStatus" は "1" である
    かつ face ファイルの "ProcessingResultCode" は "MGW3302" である
    かつ face ファイルの "ProcessingResultMessage" に "猶予期間 20270131 まで" が含まれる
    かつ face ファイルの閲覧同意フラグはすべて "0" である
    かつ "myna-yuyo" の "薬剤" の閲覧同意は記録されていない
    かつ ジャーナルの最後の face の記録の理由に "猶予期間中" が含まれる

  @OQS-CERT-003 @rule:oqs-interface-5 @rule:oqs-interface-3.4
  シナリオ: 猶予期間中の確認では医療情報は提供されない
    もし 患者が "myna-yuyo" のマイナンバーカードを置き、暗証番号 "1234" で本人確認して "薬剤" に同意する
    かつ レセコンが face フォルダに届いた資格確認結果を表示する
    かつ レセコンが "myna-yuyo" の薬剤情報を XML で取得する
    ならば 医療情報の結果コードは "2" である
    かつ 医療情報のメッセージに "猶予期間中のため医療情報は提供できません" が含まれる

  @OQS-CERT-004 @rule:oqs-interface-5 @rule:oqs-interface-1.6
  シナリオ: 猶予期間も過ぎた電子証明書はカードリーダーのエラー 006
    もし 患者が "myna-kigire" のマイナンバーカードを置き、顔認証で本人確認しようとする
    ならば カードリーダーのエラーは "006" である
    かつ カードリーダーのエラーの詳細に "猶予期間 (20261031 まで) も過ぎています" が含まれる
    かつ face フォルダに結果ファイルは書かれない
    かつ ジャーナルの最後の face の記録はカードリーダーのエラー "006" である

  @OQS-CERT-005 @rule:oqs-interface-5 @rule:oqs-interface-1.6
  シナリオ: 失効した電子証明書はカードリーダーのエラー 006
    もし 患者が "myna-shikkou" のマイナンバーカードを置き、暗証番号 "1234" で本人確認しようとする
    ならば カードリーダーのエラーは "006" である
    かつ カードリーダーのエラーの詳細に "失効" が含まれる
    かつ face フォルダに結果ファイルは書かれない

  @OQS-CERT-006 @rule:oqs-interface-5
  シナリオ: 有効期限内でも失効した時点から使えなくなる
    もし 患者が "hoken-taro" のマイナンバーカードを置き、顔認証で本人確認する
    かつ レセコンが face フォルダに届いた資格確認結果を表示する
    ならば カードリーダーのエラーはない
    もし "hoken-taro" のカードの電子証明書が失効する
    かつ 患者が "hoken-taro" のマイナンバーカードを置き、顔認証で本人確認しようとする
    ならば カードリーダーのエラーは "006" である

  @OQS-CERT-007 @rule:oqs-interface-5
  シナリオ: 有効期限の3か月前の日から通知が付き、その前日には付かない
    前提 現在日時は "2026-11-14 10:00" である
    かつ "hoken-taro" のマイナンバーカードは次のとおりである:
      """
      {registered: "true", cert_expires: "20270215"}
      """
    もし 患者が "hoken-taro" のマイナンバーカードを置き、顔認証で本人確認する
    かつ レセコンが face フォルダに届いた資格確認結果を表示する
    ならば face ファイルに "ProcessingResultCode" はない
    もし 時計を "2026-11-15 10:00" に進める
    かつ 患者が "hoken-taro" のマイナンバーカードを置き、顔認証で本人確認する
    かつ レセコンが face フォルダに届いた資格確認結果を表示する
    ならば face ファイルの "ProcessingResultCode" は "MGW3301" である

  @OQS-CERT-008 @rule:oqs-interface-5 @doc:card-grace-period
  シナリオ: 有効期限の当日はまだ有効 (猶予期間の境界: 有効な最後の日)
    前提 現在日時は "2026-11-15 09:00" である
    かつ "hoken-taro" のマイナンバーカードは次のとおりである:
      """
      {registered: "true", cert_expires: "20261115"}
      """
    もし 患者が "hoken-taro" のマイナンバーカードを置き、顔認証で本人確認して "薬剤" に同意する
    かつ レセコンが face フォルダに届いた資格確認結果を表示する
    ならば face ファイルの "ProcessingResultCode" は "MGW3301" である
    かつ face ファイルの "PharmacistsInfoConsFlg" は "1" である

  @OQS-CERT-009 @rule:oqs-interface-5 @doc:card-grace-period
  シナリオ: 有効期限の翌日から猶予期間 (猶予期間の境界: 最初の日)
    前提 現在日時は "2026-11-16 09:00" である
    かつ "hoken-taro" のマイナンバーカードは次のとおりである:
      """
      {registered: "true", cert_expires: "20261115"}
      """
    もし 患者が "hoken-taro" のマイナンバーカードを置き、顔認証で本人確認して "薬剤" に同意する
    かつ レセコンが face フォルダに届いた資格確認結果を表示する
    ならば face ファイルの "ProcessingResultCode" は "MGW3302" である
    かつ face ファイルの "ProcessingResultMessage" に "猶予期間 20270228 まで" が含まれる
    かつ face ファイルの閲覧同意フラグはすべて "0" である

  @OQS-CERT-010 @rule:oqs-interface-5 @doc:card-grace-period
  シナリオ: 有効期限月の末日から3か月後の月末が猶予期間の最後の日
    前提 現在日時は "2027-02-28 18:00" である
    かつ "hoken-taro" のマイナンバーカードは次のとおりである:
      """
      {registered: "true", cert_expires: "20261115"}
      """
    もし 患者が "hoken-taro" のマイナンバーカードを置き、顔認証で本人確認する
    かつ レセコンが face フォルダに届いた資格確認結果を表示する
    ならば face フォルダに結果ファイルが1つ書かれる
    かつ face ファイルの "ProcessingResultCode" は "MGW3302" である
    かつ face ファイルの "QualificationConfirmationDate" は "20270228" である

  @OQS-CERT-011 @rule:oqs-interface-5 @doc:card-grace-period
  シナリオ: 猶予期間の翌日からはカードリーダーのエラー 006
    前提 現在日時は "2027-03-01 09:00" である
    かつ "hoken-taro" のマイナンバーカードは次のとおりである:
      """
      {registered: "true", cert_expires: "20261115"}
      """
    もし 患者が "hoken-taro" のマイナンバーカードを置き、顔認証で本人確認しようとする
    ならば カードリーダーのエラーは "006" である
    かつ face フォルダに結果ファイルは書かれない

  @OQS-CERT-012 @rule:oqs-interface-5 @doc:card-grace-period
  シナリオ: 有効期限が切れた日から数える設定では、猶予期間は3か月後の同じ日まで
    前提 猶予期間は有効期限が切れた日から数える設定である
    かつ 現在日時は "2027-02-15 09:00" である
    かつ "hoken-taro" のマイナンバーカードは次のとおりである:
      """
      {registered: "true", cert_expires: "20261115"}
      """
    もし 患者が "hoken-taro" のマイナンバーカードを置き、顔認証で本人確認する
    かつ レセコンが face フォルダに届いた資格確認結果を表示する
    ならば face ファイルの "ProcessingResultMessage" に "猶予期間 20270215 まで" が含まれる
    もし 時計を "2027-02-16 09:00" に進める
    かつ 患者が "hoken-taro" のマイナンバーカードを置き、顔認証で本人確認しようとする
    ならば カードリーダーのエラーは "006" である
