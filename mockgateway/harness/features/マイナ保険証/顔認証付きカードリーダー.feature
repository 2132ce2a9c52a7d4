# language: ja
@area:マイナ保険証
機能: 顔認証付きカードリーダーでの資格確認 (face フォルダ)
  患者が顔認証付きカードリーダーにマイナンバーカードを置き、顔認証・暗証番号・目視のいずれかで
  本人確認して閲覧同意の画面に答えると、資格確認端末は要求なしに face フォルダへ
  OQSsiquc01res_face_<医療機関コード><20文字>_<処理日時>.xml を書く (照会区分 1)。
  本人は利用者証明用電子証明書で特定され、12桁の個人番号は使われない。
  カードリーダーの画面に出るエラー (001・002・006 など) は face フォルダに書かれない (docs/card.md)。
  face ファイルが書かれたら、レセコンはそれを読んで表示する。face ファイルについての各「ならば」は、
  レセコンが表示した内容と、端末が書いたファイルの両方を確かめる。

  背景:
    前提 現在日時は "2026-11-23 10:00" である
    かつ 既定のペルソナが登録されている
    かつ 医療機関コード "1310112345" のレセコンを使う

  @OQS-CARD-001 @rule:oqs-interface-1.2 @rule:oqs-interface-1.4 @doc:card-faceauth
  シナリオ: 顔認証で本人確認し、薬剤と特定健診の閲覧に同意する
    もし 患者が "hoken-taro" のマイナンバーカードを置き、顔認証で本人確認して "薬剤,特定健診" に同意する
    かつ レセコンが face フォルダに届いた資格確認結果を表示する
    ならば face フォルダに結果ファイルが1つ書かれる
    かつ face ファイル名は "OQSsiquc01res_face_" と医療機関コードと20文字と処理日時からなる
    かつ face ファイルの "ReferenceClassification" は "1" である
    かつ face ファイルの "SegmentOfResult" は "1" である
    かつ face ファイルの "MedicalInstitutionCode" は "1310112345" である
    かつ face ファイルの "QualificationConfirmationDate" は "20261123" である
    かつ face ファイルに "ArbitraryFileIdentifier" がある
    かつ face ファイルの "ProcessingResultStatus" は "1" である
    かつ face ファイルに "ProcessingResultCode" はない
    かつ face ファイルの "QualificationValidity" は "1" である
    かつ face ファイルの "Name" は "保険　太郎" である
    かつ face ファイルの "InsurerNumber" は "01139997" である
    かつ face ファイルの "InsuredCardSymbol" は "12-34" である
    かつ face ファイルの "PharmacistsInfoConsFlg" は "1" である
    かつ face ファイルの "PharmacistsInfoConsTime" は現在日時である
    かつ face ファイルの "PharmacistsInfoAvailableTime" は "20261124100000" である
    かつ face ファイルの "SpecificHealthCheckupsInfoConsFlg" は "1" である
    かつ face ファイルの "SpecificHealthCheckupsInfoAvailableTime" は "SpecificHealthCheckupsInfoConsTime" の24時間後である
    かつ face ファイルの "DiagnosisInfoConsFlg" は "0" である
    かつ face ファイルに "DiagnosisInfoConsTime" はない
    かつ face ファイルの "OperationInfoConsFlg" は "0" である
    かつ face ファイルに "QualificationConfirmSearchInfo" はない
    かつ 同意画面は "薬剤,特定健診,診療,手術" だった
    かつ "hoken-taro" の "薬剤" の閲覧同意が記録されている
    かつ "hoken-taro" の "診療" の閲覧同意は記録されていない
    かつ ジャーナルの最後の face の記録は "hoken-taro" の確認である

  @OQS-CARD-002 @rule:oqs-interface-1.4 @doc:mynumber-card-4
  シナリオ: 暗証番号で本人確認すると、カードがその場のチャレンジに署名し端末が検証する
    もし 患者が "kokuho-ichiro" のマイナンバーカードを置き、暗証番号 "2580" で本人確認して "診療,手術" に同意する
    かつ レセコンが face フォルダに届いた資格確認結果を表示する
    ならば face フォルダに結果ファイルが1つ書かれる
    かつ 本人確認の方法は "暗証番号" である
    かつ カードは利用者証明用電子証明書の鍵でチャレンジに署名した
    かつ face ファイルの "InsurerNumber" は "  139998" である
    かつ face ファイルの "DiagnosisInfoConsFlg" は "1" である
    かつ face ファイルの "OperationInfoConsFlg" は "1" である
    かつ face ファイルの "OperationInfoAvailableTime" は "20261124100000" である
    かつ face ファイルの "PharmacistsInfoConsFlg" は "0" である
    かつ "kokuho-ichiro" のカードの暗証番号の残り回数は 3 回である

  @OQS-CARD-003 @rule:oqs-interface-1.4 @doc:mynumber-card-4
  シナリオ: 目視で本人確認する
    もし 患者が "hoken-hanako" のマイナンバーカードを置き、目視で本人確認する
    かつ レセコンが face フォルダに届いた資格確認結果を表示する
    ならば face フォルダに結果ファイルが1つ書かれる
    かつ 本人確認の方法は "目視" である
    かつ face ファイルの "Name" は "保険　花子" である
    かつ face ファイルの "PersonalFamilyClassification" は "2" である
    かつ face ファイルの閲覧同意フラグはすべて "0" である

  @OQS-CARD-004 @doc:mynumber-card-4
  シナリオ: 顔認証が一致しなければ暗証番号に切り替えて確認できる
    もし 患者が "hoken-taro" のマイナンバーカードを置き、顔認証 (不一致) のあと暗証番号 "1234" で本人確認する
    かつ レセコンが face フォルダに届いた資格確認結果を表示する
    ならば face フォルダに結果ファイルが1つ書かれる
    かつ 本人確認の方法は "暗証番号" である
    かつ face ファイルの "QualificationValidity" は "1" である

  @OQS-CARD-005 @doc:mynumber-card-4
  シナリオ: 顔認証が一致しなければ目視に切り替えて確認できる
    もし 患者が "hoken-taro" のマイナンバーカードを置き、顔認証 (不一致) のあと目視で本人確認する
    かつ レセコンが face フォルダに届いた資格確認結果を表示する
    ならば face フォルダに結果ファイルが1つ書かれる
    かつ 本人確認の方法は "目視" である

  @OQS-CARD-006 @rule:oqs-interface-1.6 @doc:card-reader-errors
  シナリオ: 顔認証が一致せず他の方法もとらなければ、カードリーダーのエラーで face ファイルは書かれない
    もし 患者が "hoken-taro" のマイナンバーカードを置き、顔認証 (不一致) で本人確認しようとする
    ならば カードリーダーのエラーは "M03" である
    かつ face フォルダに結果ファイルは書かれない
    かつ ジャーナルの最後の face の記録はカードリーダーのエラー "M03" である

  @OQS-CARD-007 @doc:mynumber-card-4
  シナリオ: 暗証番号を1回誤っても、正しく入れ直せば確認でき残り回数は元に戻る
    もし 患者が "hoken-taro" のマイナンバーカードを置き、暗証番号 "0000,1234" で本人確認する
    かつ レセコンが face フォルダに届いた資格確認結果を表示する
    ならば face フォルダに結果ファイルが1つ書かれる
    かつ "hoken-taro" のカードの暗証番号の残り回数は 3 回である

  @OQS-CARD-008 @doc:mynumber-card-4 @doc:card-reader-errors
  シナリオ: 暗証番号を2回誤って諦めると face ファイルは書かれず、残り回数は1回になる
    もし 患者が "hoken-taro" のマイナンバーカードを置き、暗証番号 "0000,1111" で本人確認しようとする
    ならば カードリーダーのエラーは "M02" である
    かつ カードリーダーのエラーの詳細に "残り 1 回" が含まれる
    かつ face フォルダに結果ファイルは書かれない
    かつ "hoken-taro" のカードの暗証番号の残り回数は 1 回である

  @OQS-CARD-009 @doc:mynumber-card-4 @doc:card-reader-errors
  シナリオ: 暗証番号を3回誤るとロックされ、正しい暗証番号でも使えなくなる
    もし 患者が "hoken-taro" のマイナンバーカードを置き、暗証番号 "0000,1111,2222" で本人確認しようとする
    ならば カードリーダーのエラーは "M01" である
    かつ カードリーダーのエラーの詳細に "3回誤り" が含まれる
    かつ "hoken-taro" のカードの暗証番号の残り回数は 0 回である
    かつ face フォルダに結果ファイルは書かれない
    もし 患者が "hoken-taro" のマイナンバーカードを置き、暗証番号 "1234" で本人確認しようとする
    ならば カードリーダーのエラーは "M01" である
    かつ face フォルダに結果ファイルは書かれない

  @OQS-CARD-010 @doc:mynumber-card-4 @doc:card-reader-errors
  シナリオ: 暗証番号がロックされたカードも顔認証なら確認できる
    もし 患者が "myna-lock" のマイナンバーカードを置き、暗証番号 "1234" で本人確認しようとする
    ならば カードリーダーのエラーは "M01" である
    かつ "myna-lock" のカードの暗証番号の残り回数は 0 回である
    もし 患者が "myna-lock" のマイナンバーカードを置き、暗証番号 "1234" のあと顔認証で本人確認する
    かつ レセコンが face フォルダに届いた資格確認結果を表示する
    ならば face フォルダに結果ファイルが1つ書かれる
    かつ 本人確認の方法は "顔認証" である
    かつ face ファイルの "Name" は "錠前　守" である

  @OQS-CARD-011 @doc:card-profile @doc:card-reader-errors
  シナリオ: ロック時に 6983 を返すカードでもロックとして扱う
    前提 "hoken-taro" のマイナンバーカードは次のとおりである:
      """
      {registered: "true", pin_tries: "1", profile: mynumber-blocked-6983}
      """
    もし 患者が "hoken-taro" のマイナンバーカードを置き、暗証番号 "9999" で本人確認しようとする
    ならば カードリーダーのエラーは "M01" である
    かつ カードリーダーのエラーの詳細に "SW 6983" が含まれる

  @OQS-CARD-012 @rule:oqs-interface-5 @doc:card-reader-errors
  シナリオ: 健康保険証の利用登録がないカードでは確認できない
    もし 患者が "myna-mitouroku" のマイナンバーカードを置き、顔認証で本人確認しようとする
    ならば カードリーダーのエラーは "M04" である
    かつ face フォルダに結果ファイルは書かれない
    かつ ジャーナルの最後の face の記録はカードリーダーのエラー "M04" である

  @OQS-CARD-013 @rule:oqs-interface-1.6
  シナリオ: マイナンバーカード以外のカードはカードリーダーのエラー 002
    もし 患者がマイナンバーカード以外のカードを置く
    ならば カードリーダーのエラーは "002" である
    かつ face フォルダに結果ファイルは書かれない
    かつ ジャーナルの最後の face の記録はカードリーダーのエラー "002" である

  @OQS-CARD-014 @rule:oqs-interface-1.6
  シナリオ: 署名の前にカードを取り去るとカードリーダーのエラー 001
    もし 患者が "hoken-taro" のマイナンバーカードを置き、暗証番号 "1234" で本人確認する途中、署名の前にカードを取り去る
    ならば カードリーダーのエラーは "001" である
    かつ face フォルダに結果ファイルは書かれない
    かつ ジャーナルの最後の face の記録はカードリーダーのエラー "001" である

  @OQS-CARD-015 @rule:oqs-interface-1.6
  シナリオ: 顔写真を読む前にカードを取り去るとカードリーダーのエラー 001
    もし 患者が "hoken-taro" のマイナンバーカードを置き、顔認証で本人確認する途中、顔写真の読み取りの前にカードを取り去る
    ならば カードリーダーのエラーは "001" である
    かつ face フォルダに結果ファイルは書かれない

  @OQS-CARD-016 @rule:oqs-interface-3.4 @doc:mynumber-card-4
  シナリオ: 40歳未満には特定健診の同意画面が出ない
    もし 患者が "takasaki-sakiko" のマイナンバーカードを置き、顔認証で本人確認して "薬剤,特定健診" に同意する
    かつ レセコンが face フォルダに届いた資格確認結果を表示する
    ならば face フォルダに結果ファイルが1つ書かれる
    かつ 同意画面は "薬剤,診療,手術" だった
    かつ face ファイルの "PharmacistsInfoConsFlg" は "1" である
    かつ face ファイルの "SpecificHealthCheckupsInfoConsFlg" は "0" である
    かつ "takasaki-sakiko" の "特定健診" の閲覧同意は記録されていない

  @OQS-CARD-017 @rule:oqs-interface-7
  シナリオ: 照会番号を登録した医療機関には face ファイルに照会番号が入る
    前提 医療機関 "1310112345" が "hoken-taro" の照会番号 "KARTE-000123" を登録している
    もし 患者が "hoken-taro" のマイナンバーカードを置き、顔認証で本人確認する
    かつ レセコンが face フォルダに届いた資格確認結果を表示する
    ならば face ファイルの "ReferenceNumber" は "KARTE-000123" である

  @OQS-CARD-018 @rule:oqs-interface-7
  シナリオ: 照会番号はそれを登録した医療機関の face ファイルにだけ入る
    前提 医療機関 "1310110018" が "hoken-taro" の照会番号 "OTHER-1" を登録している
    もし 患者が "hoken-taro" のマイナンバーカードを置き、顔認証で本人確認する
    かつ レセコンが face フォルダに届いた資格確認結果を表示する
    ならば face フォルダに結果ファイルが1つ書かれる
    かつ face ファイルに "ReferenceNumber" はない

  @OQS-CARD-019 @doc:mynumber-card-4 @doc:card-reader-errors
  シナリオ: 顔認証マイナンバーカードには暗証番号がなく、顔認証で確認する
    もし 患者が "myna-kao" のマイナンバーカードを置き、暗証番号 "1234" で本人確認しようとする
    ならば カードリーダーのエラーは "M05" である
    かつ face フォルダに結果ファイルは書かれない
    もし 患者が "myna-kao" のマイナンバーカードを置き、顔認証で本人確認する
    かつ レセコンが face フォルダに届いた資格確認結果を表示する
    ならば face フォルダに結果ファイルが1つ書かれる
    かつ face ファイルの "Name" は "顔認　照子" である

  @OQS-CARD-020 @rule:oqs-interface-1.4 @rule:eligibility-loss-date
  シナリオ: 資格を喪失した人がカードを置くと資格有効性 2
    もし 患者が "soushitsu-jiro" のマイナンバーカードを置き、顔認証で本人確認する
    かつ レセコンが face フォルダに届いた資格確認結果を表示する
    ならば face ファイルの "QualificationValidity" は "2" である
    かつ face ファイルの "DisqualificationDate" は "20261113" である
    かつ face ファイルの "ReasonOfLoss" は "99" である

  @OQS-CARD-021 @rule:oqs-interface-1.4
  シナリオ: 保険者が変わった人のカードでは新しい資格だけが返る
    もし 患者が "tenshoku-saburo" のマイナンバーカードを置き、顔認証で本人確認する
    かつ レセコンが face フォルダに届いた資格確認結果を表示する
    ならば face ファイルの "QualificationValidity" は "1" である
    かつ face ファイルの "InsurerNumber" は "01139997" である
    かつ face ファイルの "InsuredCardSymbol" は "55-66" である

  @OQS-CARD-022 @rule:oqs-interface-3.4
  シナリオ: カードリーダーで薬剤の閲覧に同意すると、レセコンは薬剤情報を取得できる
    もし 患者が "hoken-taro" のマイナンバーカードを置き、暗証番号 "1234" で本人確認して "薬剤" に同意する
    かつ レセコンが face フォルダに届いた資格確認結果を表示する
    かつ レセコンが "hoken-taro" の薬剤情報を XML で取得する
    ならば 医療情報の結果コードは "1" である

  @OQS-CARD-023 @doc:card-reader-errors
  シナリオ: 設定すれば、本人を特定する前のカードリーダーのエラーも face ファイルに書かれる (処理結果区分 9)
    前提 カードリーダーは読み取りエラーでも face ファイルを書く設定である
    もし 患者がマイナンバーカード以外のカードを置く
    かつ レセコンが face フォルダに届いた資格確認結果を表示する
    ならば カードリーダーのエラーは "002" である
    かつ face フォルダに結果ファイルが1つ書かれる
    かつ face ファイルの "ReferenceClassification" は "1" である
    かつ face ファイルの "SegmentOfResult" は "9" である
    かつ face ファイルの "ErrorCode" は "MGW1302" である
    かつ face ファイルの "ErrorMessage" に "マイナンバーカード以外" が含まれる

  @OQS-CARD-024 @doc:card-reader-errors
  シナリオ: 設定すれば、本人を特定した後のエラーは処理結果状況 2 の face ファイルになる
    前提 カードリーダーは読み取りエラーでも face ファイルを書く設定である
    もし 患者が "myna-mitouroku" のマイナンバーカードを置き、顔認証で本人確認しようとする
    かつ レセコンが face フォルダに届いた資格確認結果を表示する
    ならば カードリーダーのエラーは "M04" である
    かつ face フォルダに結果ファイルが1つ書かれる
    かつ face ファイルの "SegmentOfResult" は "1" である
    かつ face ファイルの "ProcessingResultStatus" は "2" である
    かつ face ファイルの "ProcessingResultCode" は "MGW2302" である
    かつ face ファイルに "QualificationValidity" はない
    かつ face ファイルに "Name" はない
