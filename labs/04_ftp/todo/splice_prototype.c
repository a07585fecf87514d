/* (No splice_file_data() here: see the top of the file.) */
