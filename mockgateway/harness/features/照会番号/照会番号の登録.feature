# language: ja
@area:照会番号
機能: 照会番号の登録 (OQSsiimm01 / OQSmuimm01・02) と結果への反映
  医療機関は患者の現在の資格に照会番号 (カルテ番号など、50文字以内) を登録できる: 単件 (OQSsiimm01) と
  一括 (OQSmuimm01 で送り、処理中の間は OQSmuimm02 で問い合わせる)。登録し直すと置き換わる。現在の資格が
  ない被保険者証への登録はその件だけがエラー (処理結果状況 2) になる。登録した照会番号は、その医療機関の
  資格確認の結果・一括照会の結果・カードリーダーの結果 (face) に入り、ほかの医療機関には決して返らない
  (oqs-interface.md §7, docs/bulk.md)。

  背景:
    前提 現在日時は "2026-11-23 10:00" である
    かつ 既定のペルソナが登録されている
    かつ 医療機関コード "1310112345" のレセコンを使う

  @OQS-REF-001 @rule:oqs-interface-7 @rule:oqs-interface-1.4
  シナリオ: 単件で登録した照会番号が、その後の資格確認の結果に入る
    もし レセコンが "kokuho-ichiro" の被保険者証に照会番号 "KARTE-000123" を登録する
    ならば 照会番号の登録結果は "1" である
    かつ 医療機関 "1310112345" の "kokuho-ichiro" の照会番号は "KARTE-000123" である
    もし レセコンが "kokuho-ichiro" の被保険者証で資格確認する
    ならば 資格有効性は "1" である
    かつ 結果の "ReferenceNumber" は "KARTE-000123" である

  @OQS-REF-002 @rule:oqs-interface-7
  シナリオ: 登録し直すと照会番号は置き換わる
    もし レセコンが "hoken-taro" の被保険者証に照会番号 "OLD-1" を登録する
    かつ レセコンが "hoken-taro" の被保険者証に照会番号 "NEW-2" を登録する
    ならば 照会番号の登録結果は "1" である
    もし レセコンが "hoken-taro" の被保険者証で資格確認する
    ならば 結果の "ReferenceNumber" は "NEW-2" である

  @OQS-REF-003 @rule:oqs-interface-7 @doc:bulk-reference-numbers
  シナリオ: 現在の資格がない被保険者証には登録できず、その旨が表示される
    もし レセコンが "soushitsu-jiro" の被保険者証に照会番号 "KARTE-9" を登録する
    ならば 照会番号の登録結果は "2"、処理結果コードは "MGW2102" である

  @OQS-REF-004 @rule:oqs-interface-7 @rule:oqs-interface-2 @capability:reference-number @capability:bulk
  シナリオ: 一括で登録した照会番号が一括照会の結果に入り、資格のない件だけがエラーになる
    前提 一括照会はすぐに処理される
    もし レセコンが次の照会番号を一括登録し、30 秒待って終わらなければ諦める:
      | 患者           | 照会番号   |
      | hoken-taro     | KARTE-0001 |
      | soushitsu-jiro | KARTE-0002 |
      | kokuho-ichiro  | KARTE-0003 |
    ならば 照会番号の一括登録の結果は 3 件で、エラー 1 件である
    かつ 照会番号の一括登録の 2 件目は処理結果コード "MGW2102" のエラーである
    もし レセコンが "hoken-taro" と "hoken-hanako" と "kokuho-ichiro" を一括照会し、30 秒待って終わらなければ諦める
    ならば 一括照会の結果は 3 件で、正常 3 件、エラー 0 件である
    かつ 一括照会の 1 件目の "ReferenceNumber" は "KARTE-0001" である
    かつ 一括照会の 3 件目の "ReferenceNumber" は "KARTE-0003" である
    かつ 一括照会の 2 件目に "ReferenceNumber" はない

  @OQS-REF-005 @rule:oqs-interface-7 @rule:oqs-interface-1.4 @capability:reference-number @capability:face
  シナリオ: 登録した照会番号がカードリーダーの結果 (face) に入る
    もし レセコンが "hoken-taro" の被保険者証に照会番号 "KARTE-000777" を登録する
    かつ 患者が "hoken-taro" のマイナンバーカードを置き、顔認証で本人確認する
    かつ レセコンが face フォルダに届いた資格確認結果を表示する
    ならば face ファイルの "ReferenceNumber" は "KARTE-000777" である
    かつ face ファイルの "Name" は "保険　太郎" である

  @OQS-REF-006 @rule:oqs-interface-7 @capability:reference-number @capability:bulk @capability:face
  シナリオ: ほかの医療機関が登録した照会番号は、資格確認・一括照会・カードリーダーのどの結果にも入らない
    前提 一括照会はすぐに処理される
    もし 医療機関コード "1310110018" のレセコンが "hoken-taro" の被保険者証に照会番号 "OTHER-777" を登録する
    ならば 照会番号の登録結果は "1" である
    もし レセコンが "hoken-taro" の被保険者証で資格確認する
    ならば 資格有効性は "1" である
    かつ 結果に "ReferenceNumber" はない
    もし レセコンが "hoken-taro" と "hoken-hanako" を一括照会し、30 秒待って終わらなければ諦める
    ならば 一括照会の結果は 2 件で、正常 2 件、エラー 0 件である
    かつ 一括照会の結果のどの件にも "ReferenceNumber" はない
    もし 患者が "hoken-taro" のマイナンバーカードを置き、顔認証で本人確認する
    かつ レセコンが face フォルダに届いた資格確認結果を表示する
    ならば face ファイルに "ReferenceNumber" はない
    かつ face ファイルの "Name" は "保険　太郎" である

  @OQS-REF-007 @rule:oqs-interface-7
  シナリオ: 二つの医療機関が同じ患者に登録しても、それぞれ自分の照会番号だけを受け取る
    前提 医療機関 "1310110018" が "hoken-taro" の照会番号 "OTHER-777" を登録している
    もし レセコンが "hoken-taro" の被保険者証に照会番号 "MINE-1" を登録する
    かつ レセコンが "hoken-taro" の被保険者証で資格確認する
    ならば 結果の "ReferenceNumber" は "MINE-1" である
    かつ 医療機関 "1310110018" の "hoken-taro" の照会番号は "OTHER-777" である
