"""mockgateway: a mock オンライン資格確認 gateway and interoperability test harness."""

__version__ = "0.1.0"
