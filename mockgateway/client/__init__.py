"""Reference clients: what a well-behaved レセコン does, over the folders or HTTP."""
