"""The interfaces the gateway answers, each installed on the engine by its own `install(gateway)`.

One module for an interface that fits in one (`eligibility`: 資格確認 OQSsiquc01;
`reference_numbers`: 照会番号 OQSsiimm01), one folder for an interface made of several concepts
(`bulk/`, `medical/`, `reader/`). Interfaces still to come get folders of their own the same way
(`home_visit/` for 居宅同意取得型, `fujo/` for 医療扶助). A service imports the engine, the wire
formats, the store and `control`, never a transport.
"""
