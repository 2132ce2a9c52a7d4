# language: ja
@capability:webapi
機能: Web API 通信方式による資格確認
  レセコンは資格確認端末のフォルダを使わず、医療機関のクライアント証明書で TLS 接続して
  ログインし (ILI12020SV01/auth)、得た idToken で資格を照会する (ILI01030SV01/search)。
  要求と結果は XML と同じ要素の JSON ({"XmlMsg": …}) である。

  背景:
    前提 現在日時は "2026-11-23 10:00" である
    かつ 既定のペルソナが登録されている
    かつ 医療機関コード "1310112345" のレセコンを使う

  @OQS-WEBAPI-001 @rule:oqs-interface-1.1
  シナリオ: クライアント証明書でログインし、有効な資格が返る
    もし レセコンが Web API で "hoken-taro" の被保険者証を資格確認する
    ならば 処理結果区分は "1" である
    かつ 資格有効性は "1" である
    かつ 結果の "Name" は "保険　太郎" である
    かつ 結果の "InsuredCardSymbol" は "12-34" である
    かつ ジャーナルには医療機関コード "1310112345" の Web API でのログインと照会が記録されている
    かつ レセコンが送った要求は指示どおりである

  @OQS-WEBAPI-002 @rule:oqs-interface-1.1 @rule:eligibility-loss-date
  シナリオ: 資格を喪失した人は無効で、喪失日と事由が返る
    もし レセコンが Web API で "soushitsu-jiro" の被保険者証を資格確認する
    ならば 資格有効性は "2" である
    かつ 結果の "DisqualificationDate" は "20261113" である
    かつ 結果の "ReasonOfLoss" は "99" である
    かつ ジャーナルには医療機関コード "1310112345" の Web API でのログインと照会が記録されている

  @OQS-WEBAPI-003 @rule:oqs-interface-1.1 @rule:oqs-interface-1.4
  シナリオ: 生年月日が違えば該当資格なし
    もし レセコンが Web API で "hoken-taro" の被保険者証を生年月日 "19800402" と誤って資格確認する
    ならば 処理結果区分は "1" である
    かつ 資格有効性は "4" である
    かつ ジャーナルには医療機関コード "1310112345" の Web API でのログインと照会が記録されている
    かつ レセコンが送った要求は指示どおりである

  @OQS-WEBAPI-004 @rule:oqs-interface-1.1 @doc:pki
  シナリオ: 有効期限の切れたクライアント証明書ではログインできない
    前提 レセコンのクライアント証明書は有効期限が切れている
    もし レセコンが Web API で "hoken-taro" の被保険者証を資格確認する
    ならば レセコンは Web API にログインできなかったと報告する

  @OQS-WEBAPI-005 @rule:oqs-interface-1.1 @doc:webapi
  シナリオ: ログインはログイン先に、照会は別の照会先に Authorization ヘッダだけで送る
    もし レセコンが Web API で "hoken-taro" の被保険者証を資格確認する
    ならば 資格有効性は "1" である
    かつ レセコンはログインと照会を別々の接続先に送っている
    かつ ジャーナルには医療機関コード "1310112345" の Web API でのログインと照会が記録されている

  @OQS-WEBAPI-006 @rule:oqs-interface-1.1 @doc:webapi
  シナリオ: 医療機関コードのない照会は idToken の医療機関として答える
    もし レセコンが Web API で "hoken-taro" の被保険者証を医療機関コードを付けずに資格確認する
    ならば 処理結果区分は "1" である
    かつ 資格有効性は "1" である
    かつ ジャーナルには医療機関コード "1310112345" の Web API でのログインと照会が記録されている
    かつ レセコンが送った要求は指示どおりである

  @OQS-WEBAPI-007 @rule:oqs-interface-1.3 @doc:webapi
  シナリオ: 0 で埋めた6桁の国保の保険者番号も受け付け、送ったとおりに返す
    もし レセコンが Web API で "kokuho-ichiro" の被保険者証を保険者番号を0で埋めて資格確認する
    ならば 資格有効性は "1" である
    かつ 結果の "InsurerNumber" は "  139998" である
    かつ ゲートウェイは照会条件の "InsurerNumber" を "00139998" のまま返している
    かつ レセコンが送った要求は指示どおりである

  @OQS-WEBAPI-008 @rule:oqs-interface-1.4 @doc:layouts
  シナリオ: 特定疾病療養受療証は Web API では証の配列で返る
    もし レセコンが Web API で "gendo-kenji" の被保険者証で限度額情報の提供に同意して資格確認する
    ならば 資格有効性は "1" である
    かつ 結果に "SpecificDiseasesCertificateList" がある
    かつ ゲートウェイの結果の特定疾病療養受療証リストは "flat" の形で 1 件である

  @OQS-WEBAPI-009 @rule:oqs-interface-1.1 @doc:pki
  シナリオ: 稼働中に失効したクライアント証明書では次のログインから拒否される
    もし レセコンが Web API で "hoken-taro" の被保険者証を資格確認する
    ならば 資格有効性は "1" である
    もし レセコンのクライアント証明書が稼働中に失効する
    かつ レセコンが Web API で "hoken-taro" の被保険者証を資格確認する
    ならば レセコンは Web API にログインできなかったと報告する
