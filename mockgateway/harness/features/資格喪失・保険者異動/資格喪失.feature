# language: ja
@area:資格喪失・保険者異動
機能: 資格喪失と保険者異動 (資格有効性 2・3・4)
  資格喪失年月日はその日から資格がない日である。資格確認日が喪失日の前日なら有効、
  当日以降は無効。同じ人に別の有効な資格があれば「無効（新しい資格あり）」。

  背景:
    前提 現在日時は "2026-11-23 10:00" である
    かつ 既定のペルソナが登録されている
    かつ 医療機関コード "1310112345" のレセコンを使う

  @OQS-LOSS-001 @rule:oqs-interface-1.4 @rule:eligibility-loss-date
  シナリオ: 喪失日以降は無効で、喪失日と事由が返る
    もし レセコンが "soushitsu-jiro" の被保険者証で資格確認する
    ならば 資格有効性は "2" である
    かつ 結果の "DisqualificationDate" は "20261113" である
    かつ 結果の "ReasonOfLoss" は "99" である

  @OQS-LOSS-002 @rule:eligibility-loss-date
  シナリオ: 喪失日の前日はまだ有効
    もし レセコンが "soushitsu-jiro" の被保険者証で資格確認日 "20261112" として資格確認する
    ならば 資格有効性は "1" である

  @OQS-LOSS-003 @rule:eligibility-loss-date
  シナリオ: 喪失日当日から無効
    もし レセコンが "soushitsu-jiro" の被保険者証で資格確認日 "20261113" として資格確認する
    ならば 資格有効性は "2" である

  @OQS-LOSS-004 @rule:oqs-interface-1.4
  シナリオ: 先月保険者が変わった人の旧い被保険者証は「無効（新しい資格あり）」
    もし レセコンが "tenshoku-saburo" の以前の被保険者証で資格確認する
    ならば 資格有効性は "3" である
    かつ 結果の "DisqualificationDate" は "20261016" である
    かつ 結果の "ReasonOfLoss" は "03" である
    かつ 結果の "InsurerNumber" は "06139992" である

  @OQS-LOSS-005 @rule:oqs-interface-1.4
  シナリオ: 同じ人の新しい被保険者証は有効
    もし レセコンが "tenshoku-saburo" の被保険者証で資格確認する
    ならば 資格有効性は "1" である
    かつ 結果の "InsurerNumber" は "01139997" である
    かつ 結果の "QualificationDate" は "20261016" である

  @OQS-LOSS-006 @rule:oqs-interface-1.4
  シナリオ: 生活保護の受給開始による喪失
    もし レセコンが "seiho-shiro" の被保険者証で資格確認する
    ならば 資格有効性は "2" である
    かつ 結果の "ReasonOfLoss" は "02" である

  @OQS-LOSS-007 @rule:eligibility-future-qualification
  シナリオ: 資格取得日が明日の資格はまだない
    もし レセコンが "mirai-goro" の被保険者証で資格確認する
    ならば 資格有効性は "4" である
    かつ ジャーナルの最後の記録の理由に "資格取得年月日 20261124" が含まれる

  @OQS-LOSS-008 @rule:eligibility-future-qualification
  シナリオ: 時計が進めば資格取得日から有効になる
    もし 時計を "2026-11-24 09:00" に進める
    かつ レセコンが "mirai-goro" の被保険者証で資格確認する
    ならば 資格有効性は "1" である
