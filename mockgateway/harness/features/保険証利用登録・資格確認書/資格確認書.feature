# language: ja
@area:保険証利用登録・資格確認書 @capability:eligibility
機能: 資格確認書による資格確認
  2024-12-02 以降、被保険者証は新たに発行されず、マイナ保険証を持たない人には資格確認書 (有効期間 5年以内、
  保険者が設定) が交付される。資格確認書の番号で従来どおり資格確認でき、結果には有効期間が入る。
  資格確認書の被保険者証区分のコードは公開されていないため設定で変えられる (docs/card.md)。

  背景:
    前提 現在日時は "2026-11-23 10:00" である
    かつ 既定のペルソナが登録されている
    かつ 医療機関コード "1310112345" のレセコンを使う

  @OQS-KAKU-001 @rule:oqs-interface-6 @doc:kakunin @doc:seed-002
  シナリオ: マイナンバーカードのない人は資格確認書の番号で確認し、有効期間が返る
    もし レセコンが "kakunin-nashi" の被保険者証で資格確認する
    ならば 資格有効性は "1" である
    かつ 結果の "InsuredCardClassification" は "01" である
    かつ 結果の "InsuredCardValidDate" は "20241202" である
    かつ 結果の "InsuredCardExpirationDate" は "20291130" である

  @OQS-KAKU-002 @rule:oqs-interface-1.5 @doc:kakunin
  シナリオ: 資格確認書の被保険者証区分は設定したコードで返る
    前提 資格確認書の被保険者証区分は "08" として返す設定である
    もし レセコンが "kakunin-nashi" の被保険者証で資格確認する
    ならば 資格有効性は "1" である
    かつ 結果の "InsuredCardClassification" は "08" である
    もし レセコンが "hoken-taro" の被保険者証で資格確認する
    ならば 結果の "InsuredCardClassification" は "01" である
