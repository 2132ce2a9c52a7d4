# language: ja
@area:医療扶助
機能: 医療扶助 (生活保護) の資格確認: 公費負担者番号・受給者番号、医療券・調剤券、有効（未登録）
  医療扶助の受給者は保険者番号・記号番号の代わりに公費負担者番号 (法別 12) と受給者番号を持つ。
  結果は被保険者証区分 A1、福祉事務所名、医療券・調剤券 (PublicExpenseResultList/MedicalTicketInfo) を返し、
  福祉事務所が医療券をまだ登録していなければ資格有効性 6 有効（未登録）になる (docs/fujo.md)。

  背景:
    前提 現在日時は "2026-11-23 10:00" である
    かつ 既定のペルソナが登録されている
    かつ 医療機関コード "1310112345" のレセコンを使う

  @OQS-FUJO-001 @rule:oqs-interface-1.4 @doc:fujo
  シナリオ: 今月の医療券がある受給者は有効で、医療券の全項目が返る
    もし レセコンが "fujo-ichiro" の被保険者証で資格確認する
    ならば 処理結果区分は "1" である
    かつ 資格有効性は "1" である
    かつ 結果の "InsuredCardClassification" は "A1" である
    かつ 結果の "PublicExpenseNumber" は "12139994" である
    かつ 結果の "BeneficiaryNumber" は "1000017" である
    かつ 結果の "WelfareOfficeName" は "模擬市福祉事務所" である
    かつ 結果の医療券には MedicalTicketInfo の全項目がある
    かつ 結果の医療券の "MedicalTreatmentMonth" は "202611" である
    かつ 結果の医療券の "DesignatedMedicalInstitutionCode" は "1310112345" である

  @OQS-FUJO-002 @rule:oqs-interface-1.5 @doc:fujo
  シナリオ: 福祉事務所が今月の医療券をまだ登録していなければ有効（未登録）
    もし レセコンが "fujo-mitouroku" の被保険者証で資格確認する
    ならば 処理結果区分は "1" である
    かつ 資格有効性は "6" である
    かつ 結果の "InsuredCardClassification" は "A1" である
    かつ 結果に "PublicExpenseResultList" はない

  @OQS-FUJO-003 @rule:oqs-interface-1.5 @doc:fujo
  シナリオ: 医療券が別の医療機関を指定していれば、この医療機関では有効（未登録）
    前提 医療機関コード "1311234569" のレセコンを使う
    もし レセコンが "fujo-ichiro" の被保険者証で資格確認する
    ならば 資格有効性は "6" である

  @OQS-FUJO-004 @rule:oqs-interface-1.4 @doc:fujo
  シナリオ: 医療扶助が廃止されて国保に加入した人: 医療券の番号では新しい資格あり、国保の番号では有効
    もし レセコンが "fujo-kokuho" の以前の被保険者証で資格確認する
    ならば 資格有効性は "3" である
    かつ 結果の "InsuredCardClassification" は "A1" である
    かつ 結果の "DisqualificationDate" は "20261101" である
    もし レセコンが "fujo-kokuho" の被保険者証で資格確認する
    ならば 資格有効性は "1" である
    かつ 結果の "InsurerNumber" は "  139998" である
    かつ 結果に "PublicExpenseResultList" はない

  @OQS-FUJO-005 @capability:face @rule:oqs-interface-1.4 @doc:fujo
  シナリオ: マイナ保険証で確認しても医療扶助の結果 (有効（未登録）) が face ファイルに届く
    もし 患者が "fujo-mitouroku" のマイナンバーカードを置き、顔認証で本人確認する
    かつ レセコンが face フォルダに届いた資格確認結果を表示する
    ならば face フォルダに結果ファイルが1つ書かれる
    かつ face ファイルの "QualificationValidity" は "6" である
    かつ face ファイルの "InsuredCardClassification" は "A1" である
    かつ face ファイルの "WelfareOfficeName" は "模擬市福祉事務所" である

  @OQS-FUJO-006 @capability:raw-request @doc:fujo @rule:oqs-interface-8
  シナリオ: 公費負担者番号の検証番号が誤っていれば異常終了で、要素名を示す
    もし レセコンが次の内容の "OQSsiquc01" 要求ファイルを置く:
      """
      <?xml version="1.0" encoding="UTF-8"?>
      <XmlMsg><MessageHeader><QualificationConfirmationDate>20261123</QualificationConfirmationDate>
      <MedicalInstitutionCode>1310112345</MedicalInstitutionCode></MessageHeader>
      <MessageBody><QualificationConfirmSearchInfo><PublicExpenseNumber>12139995</PublicExpenseNumber>
      <BeneficiaryNumber>1000017</BeneficiaryNumber><Birthdate>19600101</Birthdate>
      </QualificationConfirmSearchInfo></MessageBody></XmlMsg>
      """
    ならば 処理結果区分は "9" である
    かつ エラーコードは "MGW1005" である
    かつ エラーメッセージに "PublicExpenseNumber" が含まれる

  @OQS-FUJO-007 @capability:raw-request @doc:fujo
  シナリオ: 未来の診療年月は異常終了で、要素名を示す
    もし レセコンが次の内容の "OQSsiquc01" 要求ファイルを置く:
      """
      <?xml version="1.0" encoding="UTF-8"?>
      <XmlMsg><MessageHeader><QualificationConfirmationDate>20261123</QualificationConfirmationDate>
      <MedicalInstitutionCode>1310112345</MedicalInstitutionCode></MessageHeader>
      <MessageBody><QualificationConfirmSearchInfo><PublicExpenseNumber>12139994</PublicExpenseNumber>
      <BeneficiaryNumber>1000017</BeneficiaryNumber><Birthdate>19600101</Birthdate>
      <MedicalTreatmentMonth>202612</MedicalTreatmentMonth>
      </QualificationConfirmSearchInfo></MessageBody></XmlMsg>
      """
    ならば 処理結果区分は "9" である
    かつ エラーコードは "MGW1401" である
    かつ エラーメッセージに "MedicalTreatmentMonth" が含まれる

  @OQS-FUJO-008 @capability:raw-request @doc:fujo
  シナリオ: 登録のない受給者番号は本人単位のエラーで、要素名を示す
    もし レセコンが次の内容の "OQSsiquc01" 要求ファイルを置く:
      """
      <?xml version="1.0" encoding="UTF-8"?>
      <XmlMsg><MessageHeader><QualificationConfirmationDate>20261123</QualificationConfirmationDate>
      <MedicalInstitutionCode>1310112345</MedicalInstitutionCode></MessageHeader>
      <MessageBody><QualificationConfirmSearchInfo><PublicExpenseNumber>12139994</PublicExpenseNumber>
      <BeneficiaryNumber>9999999</BeneficiaryNumber><Birthdate>19600101</Birthdate>
      </QualificationConfirmSearchInfo></MessageBody></XmlMsg>
      """
    ならば 処理結果区分は "1" である
    かつ 処理結果状況は "2" で、処理結果コードは "MGW2901"、メッセージに "BeneficiaryNumber" が含まれる
