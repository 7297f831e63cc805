print("released")
