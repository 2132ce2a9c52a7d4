# language: ja
@area:居宅同意取得型
機能: 居宅同意取得型の初回の資格確認 (マイナ資格確認アプリ・マイナ在宅受付Web)
  初回はモバイル端末のマイナ資格確認アプリか患者のスマートフォン (マイナ在宅受付Web) で、まず薬剤情報等の
  提供への同意を取り、次に4桁の暗証番号か目視確認 (目視確認用パスコード, OQS-IF-049/050) で本人確認して
  カードを読み取る (002 シード)。資格情報は医療機関側の操作でレセコンに取り込む (閲覧期間 24 時間):
  ここでは結果が face フォルダに届き、レセコンが表示する (docs/home-visit.md)。訪問診療等・オンライン診療等・
  入院では継続同意になり、発熱外来は窓口と同じく同意から 24 時間である。2025年4月からは窓口のカード
  リーダーが故障したときにも使える。

  背景:
    前提 現在日時は "2026-11-23 10:00" である
    かつ 既定のペルソナが登録されている
    かつ 医療機関コード "1310112345" のレセコンを使う

  @OQS-HOME-040 @rule:seed-002-居宅同意取得型 @rule:oqs-interface-7 @capability:home-visit @capability:face
  シナリオ: 訪問診療の初回は同意が先で、暗証番号で本人確認すると継続同意の期限までの結果が届く
    もし 患者が "hoken-taro" のマイナンバーカードを訪問診療で読み取り、暗証番号 "1234"で本人確認して "drug,checkup" に同意する
    ならば カードリーダーのエラーはない
    かつ face フォルダに結果ファイルが1つ書かれる
    もし レセコンが face フォルダに届いた資格確認結果を表示する
    ならば face ファイルの "PharmacistsInfoConsFlg" は "1" である
    かつ face ファイルの "PharmacistsInfoAvailableTime" は "20271123100000" である
    かつ face ファイルの "DiagnosisInfoConsFlg" は "0" である
    もし レセコンが "hoken-taro" を訪問診療等として再照会する
    ならば 資格有効性は "1" である
    かつ 結果の "PharmacistsInfoConsFlg" は "1" である

  @OQS-HOME-041 @rule:OQS-IF-049 @rule:OQS-IF-050 @capability:home-visit @capability:face
  シナリオ: 目視確認は医療機関に発行された目視確認用パスコードを入れれば使える
    前提 医療機関 "1310112345" に目視確認用パスコードが発行されている
    もし 患者が "hoken-taro" のマイナンバーカードをオンライン診療で読み取り、目視で本人確認して "drug" に同意する
    ならば カードリーダーのエラーはない
    かつ 本人確認の方法は "目視" である
    もし レセコンが "hoken-taro" をオンライン診療等として再照会する
    ならば 資格有効性は "1" である

  @OQS-HOME-042 @rule:OQS-IF-049 @doc:home-visit-passcode @capability:home-visit @capability:face
  シナリオ: 目視確認用パスコードが違えばカードは読み取られず、結果は届かない
    前提 医療機関 "1310112345" に目視確認用パスコードが発行されている
    かつ 目視確認用パスコードを "99999x" と打ち間違える
    もし 患者が "hoken-taro" のマイナンバーカードを訪問診療で読み取り、目視で本人確認する
    ならば カードリーダーのエラーは "M07" である
    かつ face フォルダに結果ファイルは書かれない

  @OQS-HOME-043 @rule:seed-002-居宅同意取得型 @doc:home-visit-channels @capability:home-visit @capability:face
  シナリオ: 発熱外来は継続同意にならず、同意から 24 時間で、再照会はできない
    もし 患者が "hoken-taro" のマイナンバーカードを発熱外来で読み取り、暗証番号 "1234"で本人確認して "drug" に同意する
    かつ レセコンが face フォルダに届いた資格確認結果を表示する
    ならば face ファイルの "PharmacistsInfoAvailableTime" は "20261124100000" である
    もし レセコンが "hoken-taro" を訪問診療等として再照会する
    ならば 患者ごとの処理結果は "MGW2701" のエラーで、資格情報は返らない

  @OQS-HOME-044 @rule:oqs-interface-7 @rule:seed-002-居宅同意取得型 @capability:home-visit @capability:face
  シナリオ: 窓口のカードリーダーが故障しているときは、居宅同意取得型で受付を済ませる
    前提 医療機関 "1310112345" の顔認証付きカードリーダーが故障している
    もし 患者が "hoken-taro" のマイナンバーカードを置き、顔認証で本人確認して "drug" に同意する
    ならば カードリーダーのエラーは "M09" である
    かつ face フォルダに結果ファイルは書かれない
    もし 患者が "hoken-taro" のマイナンバーカードを発熱外来で読み取り、暗証番号 "1234"で本人確認して "drug" に同意する
    ならば カードリーダーのエラーはない
    もし レセコンが face フォルダに届いた資格確認結果を表示する
    ならば face ファイルの "QualificationValidity" は "1" である
    かつ face ファイルの "Name" は "保険　太郎" である
    かつ face ファイルの "PharmacistsInfoConsFlg" は "1" である

  @OQS-HOME-045 @rule:seed-002-居宅同意取得型 @rule:OQS-IF-039 @capability:home-visit @capability:face
  シナリオ: マイナ在宅受付Webでのオンライン診療の初回の結果は、24 時間ではなく継続同意の期限まで閲覧できる
    もし 患者が "hoken-taro" のマイナンバーカードをオンライン診療で読み取り、暗証番号 "1234"で本人確認して "drug" に同意する
    ならば カードリーダーのエラーはない
    もし レセコンが face フォルダに届いた資格確認結果を表示する
    ならば face ファイルの "QualificationValidity" は "1" である
    かつ face ファイルの "PharmacistsInfoConsFlg" は "1" である
    かつ face ファイルの "PharmacistsInfoConsTime" は "20261123100000" である
    かつ face ファイルの "PharmacistsInfoAvailableTime" は "20271123100000" である
    かつ face ファイルの "SpecificHealthCheckupsInfoConsFlg" は "0" である

  @OQS-HOME-046 @rule:oqs-interface-7 @rule:seed-002-居宅同意取得型 @capability:home-visit @capability:face
  シナリオ: 窓口のカードリーダーが故障しているとき、入院する患者は病床で居宅同意取得型により受け付け、入院中の継続同意になる
    前提 医療機関 "1310112345" の顔認証付きカードリーダーが故障している
    もし 患者が "hoken-taro" のマイナンバーカードを置き、顔認証で本人確認して "drug" に同意する
    ならば カードリーダーのエラーは "M09" である
    もし 患者が "hoken-taro" のマイナンバーカードを入院で読み取り、暗証番号 "1234"で本人確認して "drug" に同意する
    ならば カードリーダーのエラーはない
    もし レセコンが face フォルダに届いた資格確認結果を表示する
    ならば face ファイルの "QualificationValidity" は "1" である
    かつ face ファイルの "PharmacistsInfoConsFlg" は "1" である
    かつ face ファイルの "PharmacistsInfoAvailableTime" は "20271123100000" である
