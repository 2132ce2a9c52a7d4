# language: ja
@area:資格確認
機能: 被保険者証・資格確認書の記号番号による資格確認 (OQSsiquc01)
  レセコンが req フォルダに OQSsiquc01req_*.xml を置くと、資格確認端末は同じ名前の
  req を res に替えた結果ファイルを res フォルダに返す。

  背景:
    前提 現在日時は "2026-11-23 10:00" である
    かつ 既定のペルソナが登録されている
    かつ 医療機関コード "1310112345" のレセコンを使う

  @OQS-ELIG-001 @rule:oqs-interface-1.4
  シナリオ: 有効な資格が返る
    もし レセコンが "hoken-taro" の被保険者証で資格確認する
    ならば 処理結果区分は "1" である
    かつ 資格有効性は "1" である
    かつ 結果の "Name" は "保険　太郎" である
    かつ 結果の "NameKana" は "ﾎｹﾝ ﾀﾛｳ" である
    かつ 結果の "InsuredCardSymbol" は "12-34" である
    かつ 結果ファイル名は要求ファイル名の req を res に替えたものである
    かつ 結果ファイルは "Shift_JIS" で書かれ、文字コード識別は "1" である
    かつ ジャーナルには医療機関コード "1310112345" からの要求が記録されている

  @OQS-ELIG-002 @rule:oqs-interface-1.4
  シナリオ: 家族 (枝番 01) の資格
    もし レセコンが "hoken-hanako" の被保険者証で資格確認する
    ならば 資格有効性は "1" である
    かつ 結果の "PersonalFamilyClassification" は "2" である
    かつ 結果の "InsuredBranchNumber" は "01" である
    かつ 結果の "InsuredName" は "保険　太郎" である

  @OQS-ELIG-003 @rule:oqs-interface-1.3 @rule:oqs-interface-8
  シナリオ: 6桁の市町村国保は先頭空白で8桁に右詰めされる
    もし レセコンが "kokuho-ichiro" の被保険者証で資格確認する
    ならば 資格有効性は "1" である
    かつ 結果の "InsurerNumber" は "  139998" である

  @OQS-ELIG-004 @rule:oqs-interface-8
  シナリオ: 後期高齢者には記号も枝番もない
    もし レセコンが "kouki-ume" の被保険者証で資格確認する
    ならば 資格有効性は "1" である
    かつ 結果に "InsuredCardSymbol" はない
    かつ 結果に "PersonalFamilyClassification" はない
    かつ 結果の "InsuredPartialContributionRatio" は "010" である

  @OQS-ELIG-005 @rule:oqs-interface-1.1
  シナリオ: CP932 にしかない字 (髙・﨑) が Shift_JIS で化けない
    もし レセコンが "takasaki-sakiko" の被保険者証で資格確認する
    ならば 結果の "Name" は "髙﨑　咲子" である
    かつ 結果ファイルは "Shift_JIS" で書かれ、文字コード識別は "1" である

  @OQS-ELIG-006 @rule:oqs-interface-1.4
  シナリオ: 限度額適用認定証の情報は提供同意があるときだけ返る
    もし レセコンが "gendo-kenji" の被保険者証で資格確認する
    ならば 結果に "LimitApplicationCertificateRelatedInfo" はない
    かつ 結果の "LimitApplicationCertificateRelatedConsFlg" は "0" である
    もし レセコンが "gendo-kenji" の被保険者証で限度額情報の提供に同意して資格確認する
    ならば 結果に "LimitApplicationCertificateRelatedInfo" がある
    かつ 結果の "LimitApplicationCertificateRelatedConsFlg" は "1" である

  @OQS-ELIG-007 @rule:oqs-interface-1.4
  シナリオ: 生年月日が違えば該当資格なし
    もし レセコンが "hoken-taro" の被保険者証で生年月日を "19800402" と誤って資格確認する
    ならば 処理結果区分は "1" である
    かつ 資格有効性は "4" である
    かつ 資格確認結果は 0 件である
    かつ ジャーナルの最後の記録の理由に "生年月日が一致しません" が含まれる

  @OQS-ELIG-008 @rule:oqs-interface-1.5
  シナリオ: 記号番号と生年月日が二人に一致すれば複数該当
    もし レセコンが "futago-ichika" の被保険者証で枝番を省いて資格確認する
    ならば 資格有効性は "5" である
    かつ 資格確認結果は 2 件である

  @OQS-ELIG-009 @rule:oqs-interface-1.5
  シナリオ: 枝番を送れば双子でも一人に決まる
    もし レセコンが "futago-nika" の被保険者証で資格確認する
    ならば 資格有効性は "1" である
    かつ 結果の "Name" は "双子　二花" である

  @OQS-ELIG-010 @rule:oqs-interface-1.6 @capability:raw-request
  シナリオ: 検証番号の誤った保険者番号はファイル単位のエラー
    もし レセコンが次の内容の "OQSsiquc01" 要求ファイルを置く:
      """
      <?xml version="1.0" encoding="UTF-8" standalone="no"?>
      <XmlMsg><MessageHeader><QualificationConfirmationDate>20261123</QualificationConfirmationDate>
      <MedicalInstitutionCode>1310112345</MedicalInstitutionCode></MessageHeader>
      <MessageBody><QualificationConfirmSearchInfo><InsurerNumber>01139998</InsurerNumber>
      <InsuredIdentificationNumber>5678</InsuredIdentificationNumber><Birthdate>19800401</Birthdate>
      </QualificationConfirmSearchInfo></MessageBody></XmlMsg>
      """
    ならば 処理結果区分は "9" である
    かつ エラーコードは "MGW1005" である
    かつ エラーメッセージに "InsurerNumber" が含まれる

  @OQS-ELIG-011 @rule:oqs-interface-1.6 @capability:raw-request
  シナリオ: XML でないファイルもエラー結果で答える
    もし レセコンが次の内容の "OQSsiquc01" 要求ファイルを置く:
      """
      これはXMLではありません
      """
    ならば 処理結果区分は "9" である
    かつ エラーコードは "MGW1001" である

  @OQS-ELIG-012 @rule:oqs-interface-1.4 @doc:layouts
  シナリオ: 特定疾病療養受療証は結果ファイルでは List の中に Info を入れ子にして返る
    もし レセコンが "gendo-kenji" の被保険者証で限度額情報の提供に同意して資格確認する
    ならば 結果に "SpecificDiseasesCertificateList" がある
    かつ 結果の "SpecificDiseasesCertificateRelatedConsFlg" は "1" である
    かつ ゲートウェイの結果の特定疾病療養受療証リストは "nested" の形で 1 件である
